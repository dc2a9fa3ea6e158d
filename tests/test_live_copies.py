"""The instructor's live-coding copies (lessons/live/) are generated from the lessons and
kept current; each is the lesson with exactly its `live` cells emptied, and it runs.

Fails when a lesson changed without `make live`, when a copy differs from its lesson in
anything but the emptied cells and re-based links, when a link in a copy leads nowhere,
or when a copy's cells before its first emptied one do not run from lessons/live/.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

# Lesson 0 checks the setup: there is nothing to live-code in it.
LESSONS = [lesson for lesson in make_student.lessons() if not lesson.name.startswith("00-")]
LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s#]+)")


def test_lessons_1_to_6_have_live_copies_and_nothing_else_is_there():
    assert [lesson.name[:2] for lesson in LESSONS] == ["01", "02", "03", "04", "05", "06"]
    expected = {make_student.live_path(lesson).stem for lesson in LESSONS}
    assert {path.stem for path in make_student.LIVE.glob("*.*")} == expected


def test_every_live_copy_is_current(tmp_path, capsys):
    """Regenerate every copy into a temporary folder and compare it with the committed one."""
    assert make_student.live_main([], check=False, into=tmp_path / "live") == 0
    for lesson in LESSONS:
        for suffix in (".py", ".ipynb"):
            generated = (tmp_path / "live" / lesson.name).with_suffix(suffix).read_text()
            committed = make_student.live_path(lesson).with_suffix(suffix)
            assert committed.read_text() == generated, f"{committed.name}: run `make live`"
    assert make_student.live_main([], check=True) == 0, capsys.readouterr().out


def _cells(path: Path):
    return jupytext.read(path).cells


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_live_copy_is_the_lesson_with_its_live_cells_emptied(lesson):
    lesson_cells = _cells(lesson)
    live_cells = _cells(make_student.live_path(lesson))
    assert len(live_cells) == len(lesson_cells)
    emptied = 0
    for number, (original, copy) in enumerate(zip(lesson_cells, live_cells, strict=True)):
        tags = [t for t in original.metadata.get("tags", []) if t != "nbval-check-output"]
        assert copy.cell_type == original.cell_type and copy.metadata.get("tags", []) == tags
        if make_student.is_live(original):
            emptied += 1
            assert copy.source == make_student.live_prompt(original.source)
            assert "\n" not in copy.source and copy.source.startswith("# Live: ")
        elif original.cell_type == "code":
            assert copy.source == original.source, f"cell {number} changed"
        elif number > 0:  # prose is kept; only its relative links are re-based
            assert LINK.sub("](", copy.source) == LINK.sub("](", original.source)
    assert emptied >= 2, f"{lesson.name}: tag the code the lesson teaches to write as live"
    assert f"the {emptied} code cells tagged `live`" in live_cells[0].source
    # Filling the emptied cells back in gives the lesson's code exactly (which nbval runs).
    for original, copy in zip(lesson_cells, live_cells, strict=True):
        if make_student.is_live(original):
            copy.source = original.source
    code = [c.source for c in live_cells if c.cell_type == "code"]
    assert code == [c.source for c in lesson_cells if c.cell_type == "code"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_relative_link_of_a_live_copy_leads_to_a_file(lesson):
    copy = make_student.live_path(lesson)
    prose = [c.source for c in jupytext.read(copy).cells if c.cell_type == "markdown"]
    targets = [target for text in prose for target in LINK.findall(text)]
    assert any(target.startswith("../") for target in targets)  # the lesson, the exercise
    for target in targets:
        assert (copy.parent / target).exists(), f"{copy.name}: broken link {target}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_live_notebook_is_stored_without_outputs_and_presents_as_slides(lesson):
    notebook = nbformat.read(make_student.live_path(lesson).with_suffix(".ipynb"), as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    assert notebook.cells[0].metadata["slideshow"] == {"slide_type": "slide"}
    assert notebook.metadata["rise"] == {"scroll": True}
    assert notebook.metadata["kernelspec"]["name"] == "python3"  # opens without asking


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_live_copy_runs_up_to_its_first_emptied_cell(lesson):
    """What the instructor runs before typing anything works from lessons/live/."""
    from nbclient import NotebookClient

    notebook = nbformat.read(make_student.live_path(lesson).with_suffix(".ipynb"), as_version=4)
    first_emptied = next(
        number for number, cell in enumerate(notebook.cells) if make_student.is_live(cell)
    )
    notebook.cells = notebook.cells[:first_emptied]
    assert any(cell.cell_type == "code" for cell in notebook.cells), "nothing runs first?"
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(make_student.LIVE)}},
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []


# --------------------------------------------------------------------------- the generator
LESSON_TEXT = """\
# %% [markdown]
# # 9 · A lesson (10 min)

# %%
import numpy as np

# %% tags=["live"]
def double(x):
    return 2 * x


total = double(np.arange(3)).sum()

# %% tags=["live", "nbval-check-output"]
# Call it on a list: the rule still holds
print(double(2))

# %% tags=["live"]
print(total)

# %% [markdown]
# See [the exercise](exercises/01-perceptron.ipynb), [lesson 2](02-feedforward-networks.ipynb),
# [the map](../README.md#course-map), $f](z)$ and [a site](https://example.org/x.ipynb).
"""


def test_generator_empties_live_cells_to_one_line_prompts():
    text = make_student.live_source(LESSON_TEXT, "09-lesson.py")
    assert "# Live: write the code that defines `double`, `total`\n" in text
    assert "# Live: Call it on a list: the rule still holds\n" in text
    assert "# Live: type this cell with the class" in text
    assert "return 2 * x" not in text and "print(total)" not in text
    assert "import numpy as np" in text and "nbval-check-output" not in text  # never compared
    assert "the 3 code cells tagged `live`" in text and "[the lesson](../09-lesson.ipynb)" in text
    compile(text, "live", "exec")


def test_prompts_name_at_most_four_definitions_and_skip_throwaway_names():
    prompt = make_student.live_prompt("_, a = 1, 2\nb = c = d = e = f = 3\n")
    assert prompt == "# Live: write the code that defines `a`, `b`, `c`, `d` and 2 more"


def test_generator_rebases_links_and_sends_lessons_to_their_live_copies():
    text = make_student.live_source(LESSON_TEXT, "09-lesson.py")
    assert "[the exercise](../exercises/01-perceptron.ipynb)" in text
    assert "[lesson 2](02-feedforward-networks.ipynb)" in text  # its live copy, a sibling
    assert "[the map](../../README.md#course-map)" in text
    assert "$f](z)$" in text and "(https://example.org/x.ipynb)" in text  # not files here


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n", "no code cell is tagged"),
        ('# %% [markdown]\n# # Title\n\n# %% [markdown] tags=["live"]\n# prose\n', "only code"),
        ('# %% tags=["live"]\nx = 1\n', "starts with its title"),
    ],
)
def test_generator_refuses_lessons_it_cannot_make_a_live_copy_of(broken, message):
    with pytest.raises(make_student.MarkerError, match=message):
        make_student.live_source(broken, "09-broken.py")


def test_live_copies_are_neither_built_nor_run_by_the_notebook_tools():
    notebooks = make_student.notebooks
    assert not [p for p in notebooks.sources() if "live" in p.parts]
    assert not [p for p in notebooks.notebooks() if "live" in p.parts]
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    assert "lessons/live/*" in root_conftest.collect_ignore_glob  # nbval skips them


def test_make_live_runs_the_generator(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("course", ROOT / "tools" / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    commands = []
    monkeypatch.setattr(course, "run", lambda *command: commands.append(list(map(str, command))))
    monkeypatch.setattr(course, "setup", lambda torch: tmp_path)
    assert course.main(["live"]) == 0
    assert commands == [[str(course.python_of(tmp_path)), "tools/make_student.py", "--live"]]
