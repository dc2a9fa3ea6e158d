"""Student versions of the exercises are generated from the solutions, and kept current.

Fails when a solution changed without `make student` (stale student .py or notebook),
when a student notebook leaks solution code, or when the stored outputs show a solution
failing its checks or a student version crashing instead of saying "not done yet".
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

SOLUTIONS = make_student.solutions()
CHECK_VERDICT = re.compile(r"^([✓✗○]) Task (\d+)", re.MULTILINE)


def test_there_is_one_exercise_per_lesson():
    numbers = sorted(int(path.name[:2]) for path in SOLUTIONS)
    assert numbers == sorted(set(numbers)) and numbers, [p.name for p in SOLUTIONS]
    assert make_student.orphans() == []


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_student_version_is_current(solution):
    assert make_student.stale_reasons(solution) == [], "run `make student`"


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text())


def _outputs(notebook: dict) -> str:
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                texts.append(f"ERROR {output['ename']}: {output['evalue']}")
            texts.append("".join(output.get("text", "")))
            texts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_stored_outputs_show_solutions_passing_and_students_not_done(solution):
    student = make_student.student_path(solution)
    solved = _outputs(_notebook(solution.with_suffix(".ipynb")))
    unsolved = _outputs(_notebook(student.with_suffix(".ipynb")))
    assert "ERROR" not in solved and "ERROR" not in unsolved
    verdicts = CHECK_VERDICT.findall(solved)
    assert verdicts and {icon for icon, _ in verdicts} == {"✓"}, verdicts
    student_verdicts = CHECK_VERDICT.findall(unsolved)
    # The same checks run in both versions; in the student's, every one is "not done yet".
    assert [task for _, task in student_verdicts] == [task for _, task in verdicts]
    assert {icon for icon, _ in student_verdicts} == {"○"}, student_verdicts


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_student_version_hides_every_solution(solution):
    source = solution.read_text()
    student = make_student.student_path(solution).read_text()
    tasks = re.findall(r"# SOLUTION (Task \d+[^\n]*)", source)
    assert tasks, f"{solution.name} marks no solution code"
    for task in tasks:
        assert f'raise NotImplementedError("{task}")' in student
    for marker in ("SOLUTION", 'tags=["solution"]'):
        assert marker not in student
    notebook = _notebook(make_student.student_path(solution).with_suffix(".ipynb"))
    for cell in notebook["cells"]:
        assert cell["cell_type"] == "markdown" or cell.get("execution_count"), (
            "the student notebook must be stored executed, with outputs"
        )


# --------------------------------------------------------------------------- the generator
SOLUTION_TEXT = """\
# %% [markdown]
# # Exercise
# <!-- SOLUTION -->
# Solution banner, see [student](../01-x.ipynb).
# <!-- END SOLUTION -->
# <!-- STUDENT
# Solutions: [here](01-x.ipynb). Next: [exercise 2](02-y.ipynb).
# -->

# %%
def f(x):
    \"\"\"Doc.\"\"\"
    # SOLUTION Task 1: write "f"
    return x + 1
    # END SOLUTION


check(f)

# %% [markdown]
# <!-- SOLUTION -->
# Only in the solution.
# <!-- END SOLUTION -->

# %% tags=["solution"]
assert f(1) == 2

# %% [markdown]
# Lesson: [1](../../01-lesson.ipynb).
"""


def test_generator_replaces_marked_code_and_keeps_the_rest():
    text = make_student.student_source(SOLUTION_TEXT, "solutions/01-x.py")
    assert '    raise NotImplementedError("Task 1: write \\"f\\"")\n' in text
    assert "return x + 1" not in text and "Solution banner" not in text
    assert '"""Doc."""' in text and "check(f)" in text
    assert "assert f(1) == 2" not in text and 'tags=["solution"]' not in text
    assert text.count("# %% [markdown]") == 2  # the emptied markdown cell is gone
    # Links: own solution kept, other exercises go to their student version, lessons re-based.
    assert "[here](solutions/01-x.ipynb)" in text
    assert "[exercise 2](02-y.ipynb)" in text
    assert "[1](../01-lesson.ipynb)" in text
    compile(text, "student", "exec")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("# %%\n# SOLUTION Task 1: x\nx = 1\n", "never closed"),
        ("# %%\n# SOLUTION Task 1: x\nx = 1\n\n# %%\ny = 2\n", "not closed before the next cell"),
        ("# %%\nx = 1\n# END SOLUTION\n", "without a SOLUTION"),
        ("# %%\n# SOLUTION\nx = 1\n# END SOLUTION\n", "say which task"),
        ("# %% [markdown]\n# <!-- END SOLUTION -->\n", "without"),
    ],
)
def test_generator_reports_unpaired_markers(broken, message):
    with pytest.raises(make_student.MarkerError, match=message):
        make_student.student_source(broken, "solutions/09-broken.py")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("#SOLUTION Task 1: x", "#END SOLUTION"),
        ("# solution Task 1: x", "# end solution"),
        ("#  Solution  Task 1: x", "#End  Solution"),
        ("# SOLUTION Task 1: x", "# END_SOLUTION"),
    ],
)
def test_generator_recognises_markers_in_any_case_and_spacing(start, end):
    text = f"# %%\ndef f():\n    {start}\n    return 'the answer'\n    {end}\n"
    student = make_student.student_source(text, "solutions/09-x.py")
    assert "the answer" not in student
    assert '    raise NotImplementedError("Task 1: x")' in student


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        # two openings, one close: used to be accepted, hiding everything after it
        (
            "# %% [markdown]\n# <!-- SOLUTION -->\n# a\n# <!-- SOLUTION -->\n# b\n"
            "# <!-- END SOLUTION -->\n",
            r"09-broken.py:4: <!-- SOLUTION --> inside the marker opened on line 2",
        ),
        (
            "# %% [markdown]\n# <!-- solution -->\n# a\n",
            r"09-broken.py:2: <!-- SOLUTION --> is never closed",
        ),
        (
            "# %% [markdown]\n# <!-- STUDENT\n# <!-- SOLUTION -->\n# -->\n",
            r"09-broken.py:3: .*inside the marker opened on line 2",
        ),
        ("# %% [markdown]\n# <!-- SOLUTIONS -->\n# a\n", r"09-broken.py:2: unrecognised marker"),
        (
            "# %%\nvalues = [\n    # SOLUTION Task 1: the values\n    1, 2, 3,\n"
            "    # END SOLUTION\n]\n",
            r"09-broken.py:3: .*inside the bracket opened on line 2",
        ),
        (
            "# %%\nx = 1  # SOLUTION Task 1: x\n",
            r"09-broken.py:2: a marker must be on a line of its own",
        ),
        (
            "# %%\ndef f():\n    x = 1\n# SOLUTION Task 1: x\n    return x\n# END SOLUTION\n"
            "    y = 2\n",
            r"09-broken.py:2: the student version of this cell does not compile",
        ),
        (
            "# %%\n# SOLUTION Task 1: x\nx = 1\n# END SOLUTION\ny = (\n",
            r"09-broken.py:2: this code cell is not complete Python",
        ),
        (
            '# %% tags=["solution"]\n# SOLUTION Task 1: x\nx = 1\n',
            r"09-broken.py:2: # SOLUTION is never closed",
        ),
    ],
)
def test_generator_refuses_misplaced_or_unbalanced_markers_naming_the_line(broken, message):
    with pytest.raises(make_student.MarkerError, match=message):
        make_student.student_source(broken, "solutions/09-broken.py")


def test_markers_inside_strings_are_text_not_markers():
    text = '# %%\nhelp_text = """\n# SOLUTION is a word here\n"""\n'
    assert "# SOLUTION is a word here" in make_student.student_source(text, "s/09-x.py")


@pytest.fixture
def exercise_folder(tmp_path, monkeypatch):
    """A course layout in tmp_path with two solutions and their current student versions."""
    exercises = tmp_path / "lessons" / "exercises"
    solutions = exercises / "solutions"
    solutions.mkdir(parents=True)
    for number in (1, 2):
        (solutions / f"0{number}-x.py").write_text(
            f"# %%\ndef f():\n    # SOLUTION Task {number}: f\n    return 1\n    # END SOLUTION\n"
        )
        (exercises / f"0{number}-x.py").write_text("old student version\n")
        (exercises / f"0{number}-x.ipynb").write_text("old notebook\n")
    monkeypatch.setattr(make_student, "ROOT", tmp_path)
    monkeypatch.setattr(make_student, "EXERCISES", exercises)
    monkeypatch.setattr(make_student, "SOLUTIONS", solutions)
    return exercises


def _fake_execute(fail_on: str | None = None):
    """Stands in for running a notebook: writes the .ipynb, or fails like a crashing cell."""

    def execute(staged: Path) -> None:
        staged.with_suffix(".ipynb").write_text("executed\n")
        if fail_on and fail_on in staged.name:
            raise RuntimeError("a cell raised")

    return execute


def test_a_failing_build_leaves_every_student_file_untouched(exercise_folder, capsys):
    before = {p.name: p.read_text() for p in exercise_folder.iterdir() if p.is_file()}
    chosen = make_student.solutions()
    assert make_student.build_all(chosen, execute=_fake_execute(fail_on="02-x")) == 1
    after = {p.name: p.read_text() for p in exercise_folder.iterdir() if p.is_file()}
    assert after == before  # 01-x built fine, but nothing is replaced unless all build
    assert "02-x.py: FAILED" in capsys.readouterr().out

    assert make_student.build_all(chosen, execute=_fake_execute()) == 0
    assert sorted(p.name for p in exercise_folder.iterdir() if p.is_file()) == sorted(before)
    assert 'raise NotImplementedError("Task 2: f")' in (exercise_folder / "02-x.py").read_text()
    assert (exercise_folder / "01-x.ipynb").read_text() == "executed\n"


def test_a_marker_error_stops_the_build_before_any_notebook_runs(exercise_folder):
    (exercise_folder / "solutions" / "02-x.py").write_text("# %%\n# SOLUTION Task 1: x\n")
    ran = []
    assert make_student.build_all(make_student.solutions(), execute=ran.append) == 1
    assert ran == [] and (exercise_folder / "01-x.py").read_text() == "old student version\n"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_every_task_has_progressive_hints(solution):
    module_name = re.search(r"from widgets.checks import (\w+) as check", solution.read_text())
    assert module_name, f"{solution.name} does not import its checks as `check`"
    module = importlib.import_module(f"widgets.checks.{module_name.group(1)}")
    tasks = {int(n) for n in re.findall(r"# SOLUTION Task (\d+)", solution.read_text())}
    for task in tasks:
        texts = [module.hint.text(task, level) for level in (1, 2)]  # at least two hints
        assert all(text.startswith(f"💡 Task {task}, hint") for text in texts)


EXERCISE_SOURCES = sorted(
    [
        *make_student.EXERCISES.glob("*.py"),
        *make_student.SOLUTIONS.glob("*.py"),
        make_student.EXERCISES / "README.md",
    ]
)


@pytest.mark.parametrize("source", EXERCISE_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(source):
    targets = re.findall(r"\]\((?!https?://|#|mailto:)([^)\s#]+)", source.read_text())
    missing = [t for t in targets if not (source.parent / t).exists()]
    assert not missing, f"{source.name} links to missing files: {missing}"
