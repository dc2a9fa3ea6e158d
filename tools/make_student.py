"""Generate the student versions of the exercises from their solutions (what `make student` runs).

    python tools/make_student.py          # regenerate stale student versions, run their notebooks
    python tools/make_student.py --check  # exit 1 if any student version is stale (no writes)
    python tools/make_student.py --force  # regenerate and re-execute every one
    python tools/make_student.py lessons/exercises/solutions/01-perceptron.py   # only these

The solutions are the source: ``lessons/exercises/solutions/NN-name.py`` (py:percent, paired
with an executed .ipynb). A student version ``lessons/exercises/NN-name.py`` (+ .ipynb with the
outputs of a run) is derived from it by these markers:

* code, at any indentation::

      # SOLUTION Task 1: the update rule
      ...solution lines...
      # END SOLUTION

  becomes ``raise NotImplementedError("Task 1: the update rule")`` at the marker's indentation,
  so the exercise's checks report "not done yet" instead of crashing;
* markdown lines between ``<!-- SOLUTION -->`` and ``<!-- END SOLUTION -->`` (answers to the
  reflection questions, the "this is the solution" banner) are dropped;
* markdown between ``<!-- STUDENT`` and ``-->`` is invisible in the solution and shown to
  students (the comment markers are removed);
* a whole cell tagged ``solution`` (``# %% tags=["solution"]``: e.g. the asserts that back
  the answers to the reflection questions) is dropped;
* relative links in markdown are rewritten for the student version's folder.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebooks  # noqa: E402  (tools/notebooks.py: the one home of building notebooks)

ROOT = notebooks.ROOT
EXERCISES = ROOT / "lessons" / "exercises"
SOLUTIONS = EXERCISES / "solutions"

_CODE_START = re.compile(r"^(?P<indent>[ \t]*)# SOLUTION\b(?P<task>.*)$")
_CODE_END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
# A cell tagged "solution" (`# %% tags=["solution"]`) is left out of the student version.
_SOLUTION_CELL = re.compile(r'^# %%.*\btags=\[[^\]]*"solution"')
_MARKDOWN_START = "<!-- SOLUTION -->"
_MARKDOWN_END = "<!-- END SOLUTION -->"
_STUDENT_START = "<!-- STUDENT"
_STUDENT_END = "-->"
# A markdown link's target: ](target) — absolute URLs and in-page anchors are left alone.
_EXERCISE_NAME = re.compile(r"^\d\d-.+\.(ipynb|py)$")
_LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)\s]+)\)")


class MarkerError(ValueError):
    """A solution's markers do not pair up; the message names the file and line."""


def student_path(solution: Path) -> Path:
    return EXERCISES / solution.name


def solutions() -> list[Path]:
    return sorted(SOLUTIONS.glob("[0-9][0-9]-*.py"))


def _rewrite_link(match: re.Match, source_dir: Path, target_dir: Path, own_name: str) -> str:
    target = match.group("target")
    path, _, anchor = target.partition("#")
    absolute = (source_dir / path).resolve()
    if (
        absolute.parent == SOLUTIONS.resolve()
        and _EXERCISE_NAME.match(absolute.name)
        and absolute.stem != own_name
    ):
        # "Next: exercise 3" leads a student to exercise 3, not to its solution.
        absolute = EXERCISES / absolute.name
    relative = Path(os.path.relpath(absolute, target_dir)).as_posix()
    return f"]({relative}{'#' + anchor if anchor else ''})"


def _python_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def student_source(
    solution_text: str,
    name: str = "<solution>",
    source_dir: Path = SOLUTIONS,
    target_dir: Path = EXERCISES,
) -> str:
    """The student version of a solution's py:percent text (pure function: no files touched).

    ``name`` is the solution's path, for error messages and to tell links to this
    exercise's own solution (kept) from links to other exercises (sent to their student
    versions).
    """
    own_name = Path(name).stem
    output: list[str] = []
    lines = solution_text.splitlines()
    in_markdown = False
    solution_cell = False
    code_marker: tuple[int, str, str] | None = None  # (line number, indent, task)
    markdown_marker: int | None = None
    student_marker: int | None = None

    def refuse_open_markers(problem: str) -> None:
        """A marker must close inside its own cell, and every marker must close."""
        for open_at, kind in (
            (code_marker, "# SOLUTION"),
            (markdown_marker, _MARKDOWN_START),
            (student_marker, _STUDENT_START),
        ):
            if open_at:
                start = open_at[0] if isinstance(open_at, tuple) else open_at
                raise MarkerError(f"{name}:{start}: {kind} {problem}")

    for number, line in enumerate(lines, start=1):
        if line.startswith("# %%"):
            refuse_open_markers("is not closed before the next cell")
            in_markdown = line.startswith("# %% [markdown]")
            solution_cell = _SOLUTION_CELL.search(line) is not None
            if not solution_cell:
                output.append(line)
            continue
        if solution_cell:
            continue
        if not in_markdown:
            start = _CODE_START.match(line)
            if start:
                if code_marker:
                    raise MarkerError(
                        f"{name}:{number}: SOLUTION inside the SOLUTION of line {code_marker[0]}"
                    )
                task = start.group("task").strip(" :—-")
                if not task:
                    raise MarkerError(
                        f"{name}:{number}: say which task: `# SOLUTION Task 1: what to write`"
                    )
                code_marker = (number, start.group("indent"), task)
                continue
            if _CODE_END.match(line):
                if not code_marker:
                    raise MarkerError(f"{name}:{number}: END SOLUTION without a SOLUTION")
                _, indent, task = code_marker
                output.append(f"{indent}raise NotImplementedError({_python_string(task)})")
                code_marker = None
                continue
            if not code_marker:
                output.append(line)
            continue
        text = line[2:] if line.startswith("# ") else line.lstrip("#")
        if text.strip() == _MARKDOWN_START:
            markdown_marker = number
            continue
        if text.strip() == _MARKDOWN_END:
            if not markdown_marker:
                raise MarkerError(f"{name}:{number}: {_MARKDOWN_END} without {_MARKDOWN_START}")
            markdown_marker = None
            continue
        if text.strip() == _STUDENT_START:
            student_marker = number
            continue
        if student_marker and text.strip() == _STUDENT_END:
            student_marker = None
            continue
        if markdown_marker:
            continue
        output.append(_LINK.sub(lambda m: _rewrite_link(m, source_dir, target_dir, own_name), line))
    refuse_open_markers("is never closed")
    return "\n".join(_without_empty_markdown_cells(output)) + "\n"


def _without_empty_markdown_cells(lines: list[str]) -> list[str]:
    """Drop markdown cells left empty once their solution-only text is removed, and the
    paragraph break (a bare ``#``) left dangling at the end of a shortened one."""
    kept: list[str] = []
    cell: list[str] = []
    for line in [*lines, "# %%"]:  # the sentinel flushes the last cell
        if line.startswith("# %%"):
            if cell and cell[0].startswith("# %% [markdown]"):
                text_end = max((i for i, t in enumerate(cell) if t.strip() not in ("", "#")))
                if text_end == 0:  # nothing but the header is left
                    cell = []
                else:  # keep the blank lines that separate it from the next cell
                    cell = cell[: text_end + 1] + [t for t in cell[text_end + 1 :] if not t]
            kept.extend(cell)
            cell = []
        cell.append(line)
    return kept


def expected_student_text(solution: Path) -> str:
    return student_source(solution.read_text(), str(solution.relative_to(ROOT)))


def stale_reasons(solution: Path) -> list[str]:
    """Why the student version of ``solution`` is out of date (empty when it is current)."""
    target = student_path(solution)
    shown = target.relative_to(ROOT)
    if not target.exists():
        return [f"{shown}: missing"]
    if target.read_text() != expected_student_text(solution):
        return [f"{shown}: differs from what {solution.name} generates"]
    notebook = target.with_suffix(".ipynb")
    if not notebook.exists():
        return [f"{notebook.relative_to(ROOT)}: missing"]
    if notebooks.as_percent_script(notebook) != target.read_text():
        return [f"{notebook.relative_to(ROOT)}: its inputs differ from {target.name}"]
    return []


def orphans() -> list[Path]:
    """Student versions whose solution no longer exists."""
    names = {s.name for s in solutions()}
    return [p for p in sorted(EXERCISES.glob("[0-9][0-9]-*.py")) if p.name not in names]


def build(solution: Path) -> str:
    target = student_path(solution)
    text = expected_student_text(solution)
    target.write_text(text)
    report = notebooks.execute(target)
    if target.read_text() != text:
        raise RuntimeError(
            f"{target.relative_to(ROOT)} changed when its notebook was built: run "
            f"`tools/notebooks.py build {solution.relative_to(ROOT)}` first so the solution "
            "is in jupytext's canonical form, then run this again."
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="solution .py files (default: all)")
    parser.add_argument("--check", action="store_true", help="only report stale versions")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    chosen = [Path(f).resolve() for f in args.files] or solutions()
    for path in chosen:
        if path.parent != SOLUTIONS or path.suffix != ".py" or not path.exists():
            parser.error(
                f"{path}: expected a solution source lessons/exercises/solutions/NN-name.py"
            )
    try:
        stale = {s: stale_reasons(s) for s in chosen}
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    problems = [reason for reasons in stale.values() for reason in reasons]
    problems += [f"{p.relative_to(ROOT)}: no solution {p.name} in solutions/" for p in orphans()]
    if args.check:
        print("\n".join(problems) or "all student versions are up to date")
        return 1 if problems else 0
    failures = 0
    for solution, reasons in stale.items():
        if not reasons and not args.force:
            print(f"{student_path(solution).relative_to(ROOT)}: up to date")
            continue
        try:
            print(build(solution), flush=True)
        except Exception as error:  # report every failing exercise, not just the first
            failures += 1
            print(f"{student_path(solution).relative_to(ROOT)}: FAILED\n{error}", flush=True)
    for orphan in orphans():
        print(f"warning: {orphan.relative_to(ROOT)} has no solution; delete it (and its .ipynb)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
