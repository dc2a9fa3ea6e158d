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
