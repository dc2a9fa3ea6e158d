"""Generate the student versions of the exercises from their solutions (what `make student` runs),
and the instructor's live-coding copies of the lessons (what `make live` runs).

    python tools/make_student.py          # regenerate stale student versions, run their notebooks
    python tools/make_student.py --check  # exit 1 if any student version is stale (no writes)
    python tools/make_student.py --force  # regenerate and re-execute every one
    python tools/make_student.py lessons/exercises/solutions/01-perceptron.py   # only these
    python tools/make_student.py --live [--check] [lessons/01-perceptron.py ...]

One tool, two tag sets. **Live-coding copies**: a lesson's code cells tagged ``live``
(``# %% tags=["live"]``: the code the lesson teaches to write, typed in front of the class)
become a one-line prompt comment in ``lessons/live/NN-name.py`` (+ .ipynb, stored without
outputs, with the lesson's slide metadata). The prompt is the cell's own first comment when
it starts with one, else it names what the cell defines. Every other cell (prose, pictures,
widgets, imports) is copied as it is; relative links are re-based for ``lessons/live/``,
links to other lessons lead to their live copies, and ``nbval-check-output`` tags are
dropped (nbval never runs a live copy). Nothing is executed: the lessons are.

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

The generator is strict, because a marker it misreads ships a solution to students: the
file is read into cells with jupytext; markers are recognised in any case and spacing
(``#solution``, ``# End Solution``); a marker that is unbalanced, inside brackets (a list
literal) or after code on its line is refused with the file and line; every student cell
must compile. Each notebook is executed under a hidden staging name, and the student files
are replaced only once every one of them built, so a failing build changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import sys
import tokenize
from pathlib import Path
from typing import NamedTuple

import jupytext
from IPython.core.inputtransformer2 import TransformerManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebooks  # noqa: E402  (tools/notebooks.py: the one home of building notebooks)

ROOT = notebooks.ROOT
EXERCISES = ROOT / "lessons" / "exercises"
SOLUTIONS = EXERCISES / "solutions"

# Markers are recognised whatever their case and spacing (`#SOLUTION`, `# solution`,
# `# End Solution`): a marker missed because of its spelling would ship the solution.
_CODE_START = re.compile(r"#\s*solution\b(?P<task>.*)", re.IGNORECASE)
_CODE_END = re.compile(r"#\s*end[\s_-]*solution\s*", re.IGNORECASE)
_MARKDOWN_START = re.compile(r"<!--\s*solution\s*-->", re.IGNORECASE)
_MARKDOWN_END = re.compile(r"<!--\s*end[\s_-]*solution\s*-->", re.IGNORECASE)
_STUDENT_START = re.compile(r"<!--\s*student\s*", re.IGNORECASE)
_STUDENT_END = "-->"
# Any other HTML comment that names a marker is a misspelt one: refuse it, do not guess.
_MARKDOWN_NEAR_MISS = re.compile(r"<!--.*(solution|student)", re.IGNORECASE)
_SOLUTION_TAG = "solution"  # a cell tagged so (`# %% tags=["solution"]`) is left out
_CELL_HEADER = re.compile(r"^# %%")
# A markdown link's target: ](target) — absolute URLs and in-page anchors are left alone.
_EXERCISE_NAME = re.compile(r"^\d\d-.+\.(ipynb|py)$")
_LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)\s]+)\)")
_OPENING, _CLOSING = "([{", ")]}"


class MarkerError(ValueError):
    """A solution's markers are unbalanced, misplaced or leave code that does not compile;
    the message names the file and line."""


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


class _Cell(NamedTuple):
    """One cell's source lines and the file line its first source line sits on."""

    lines: list[str]
    first_line: int
    name: str

    def where(self, index: int) -> str:
        return f"{self.name}:{self.first_line + index}"


def _cells(notebook, text: str, name: str) -> list[_Cell]:
    """The notebook's cells with their line numbers in the py:percent text.

    Each cell starts after its ``# %%`` header; a first cell without a header starts on
    line 1.
    """
    headers = [n for n, line in enumerate(text.splitlines(), start=1) if _CELL_HEADER.match(line)]
    if len(headers) == len(notebook.cells) - 1:
        headers = [0, *headers]
    if len(headers) != len(notebook.cells):
        raise MarkerError(f"{name}: cannot match its {len(notebook.cells)} cells to `# %%` lines")
    return [
        _Cell(cell.source.split("\n"), header + 1, name)
        for cell, header in zip(notebook.cells, headers, strict=True)
    ]


def _student_markdown(cell: _Cell, is_last: bool, rewrite_links) -> list[str]:
    """A markdown cell's lines without its solution text, its student text uncommented."""
    kept: list[str] = []
    solution_open: int | None = None  # the index of the opening marker's line
    student_open: int | None = None
    for index, line in enumerate(cell.lines):
        text = line.strip()
        if _MARKDOWN_START.fullmatch(text) or _STUDENT_START.fullmatch(text):
            opened = solution_open if solution_open is not None else student_open
            if opened is not None:
                raise MarkerError(
                    f"{cell.where(index)}: {text} inside the marker opened on line "
                    f"{cell.first_line + opened}; close that one first"
                )
            if _MARKDOWN_START.fullmatch(text):
                solution_open = index
            else:
                student_open = index
            continue
        if _MARKDOWN_END.fullmatch(text):
            if solution_open is None:
                raise MarkerError(
                    f"{cell.where(index)}: {text} without <!-- SOLUTION --> before it"
                )
            solution_open = None
            continue
        if student_open is not None and text == _STUDENT_END:
            student_open = None
            continue
        if _MARKDOWN_NEAR_MISS.search(text):
            raise MarkerError(
                f"{cell.where(index)}: unrecognised marker {text!r}; the markers are "
                "<!-- SOLUTION -->, <!-- END SOLUTION --> and <!-- STUDENT ... -->"
            )
        if solution_open is None:
            kept.append(rewrite_links(line))
    for opened, marker in ((solution_open, "<!-- SOLUTION -->"), (student_open, "<!-- STUDENT")):
        if opened is not None:
            where = "is never closed" if is_last else "is not closed before the next cell"
            raise MarkerError(f"{cell.where(opened)}: {marker} {where}")
    while kept and not kept[-1].strip():  # the paragraph break a removed ending leaves
        kept.pop()
    return kept


def _comments(cell: _Cell) -> tuple[dict[int, int], dict[int, str]]:
    """The comments of a code cell, as Python's tokenizer sees them.

    Returns ``{line index: index of the line whose bracket is still open there, or -1}``
    for lines that hold only a comment, and ``{line index: comment}`` for comments that
    follow code. The tokenizer tells comments from ``#`` inside strings, and counts
    brackets: a marker inside a list literal would become ``[ raise NotImplementedError ]``.
    IPython magics (``%time``, ``!ls``) are blanked first; they hold no markers.
    """
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.lines)
    own_line: dict[int, int] = {}
    after_code: dict[int, str] = {}
    opened_at: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code + "\n").readline):
            if token.type == tokenize.OP and token.string in _OPENING:
                opened_at.append(token.start[0] - 1)
            elif token.type == tokenize.OP and token.string in _CLOSING and opened_at:
                opened_at.pop()
            elif token.type == tokenize.COMMENT:
                index = token.start[0] - 1
                if cell.lines[index].lstrip().startswith("#"):
                    own_line[index] = opened_at[-1] if opened_at else -1
                else:
                    after_code[index] = token.string
    except (tokenize.TokenError, SyntaxError) as error:
        raise MarkerError(
            f"{cell.where(0)}: this code cell is not complete Python ({error.args[0]})"
        ) from None
    return own_line, after_code


def _student_code(cell: _Cell, is_last: bool) -> list[str]:
    """A code cell with each marked solution replaced by ``raise NotImplementedError``."""
    comments, trailing_comments = _comments(cell)
    for index, comment in trailing_comments.items():
        if _CODE_START.fullmatch(comment) or _CODE_END.fullmatch(comment):
            raise MarkerError(f"{cell.where(index)}: a marker must be on a line of its own")
    kept: list[str] = []
    open_marker: tuple[int, str, str] | None = None  # (line index, indent, task)
    for index, line in enumerate(cell.lines):
        text = line.strip()
        start, end = _CODE_START.fullmatch(text), _CODE_END.fullmatch(text)
        if not ((start or end) and index in comments):
            if open_marker is None:
                kept.append(line)
            continue
        if comments[index] >= 0:
            raise MarkerError(
                f"{cell.where(index)}: {text} is inside the bracket opened on line "
                f"{cell.first_line + comments[index]}: put the whole statement between the "
                "markers, so the stub can replace it"
            )
        if start:
            if open_marker is not None:
                raise MarkerError(
                    f"{cell.where(index)}: SOLUTION inside the SOLUTION of line "
                    f"{cell.first_line + open_marker[0]}"
                )
            task = start.group("task").strip(" :—-")
            if not task:
                raise MarkerError(
                    f"{cell.where(index)}: say which task: `# SOLUTION Task 1: what to write`"
                )
            indent = line[: len(line) - len(line.lstrip())]
            open_marker = (index, indent, task)
            continue
        if open_marker is None:
            raise MarkerError(f"{cell.where(index)}: END SOLUTION without a SOLUTION")
        _, indent, task = open_marker
        kept.append(f"{indent}raise NotImplementedError({_python_string(task)})")
        open_marker = None
    if open_marker is not None:
        where = "is never closed" if is_last else "is not closed before the next cell"
        raise MarkerError(f"{cell.where(open_marker[0])}: # SOLUTION {where}")
    return kept


def _check_compiles(cell: _Cell, lines: list[str]) -> None:
    """The student's version of a code cell must at least compile (magics allowed)."""
    source = TransformerManager().transform_cell("\n".join(lines))
    try:
        compile(source, cell.name, "exec")
    except SyntaxError as error:
        raise MarkerError(
            f"{cell.where(0)}: the student version of this cell does not compile "
            f"({error.msg}, its line {error.lineno}): check that the markers enclose whole "
            "statements at one indentation"
        ) from None


def student_source(
    solution_text: str,
    name: str = "<solution>",
    source_dir: Path = SOLUTIONS,
    target_dir: Path = EXERCISES,
) -> str:
    """The student version of a solution's py:percent text (pure function: no files touched).

    ``name`` is the solution's path, for error messages and to tell links to this
    exercise's own solution (kept) from links to other exercises (sent to their student
    versions). Raises :class:`MarkerError` when markers are unbalanced or misplaced or the
    student version of a cell would not compile.
    """
    own_name = Path(name).stem
    notebook = jupytext.reads(solution_text, fmt="py:percent")
    cells = _cells(notebook, solution_text, name)

    def rewrite_links(line: str) -> str:
        return _LINK.sub(lambda m: _rewrite_link(m, source_dir, target_dir, own_name), line)

    student_cells = []
    for number, (cell, located) in enumerate(zip(notebook.cells, cells, strict=True)):
        is_last = number == len(cells) - 1
        if cell.cell_type == "markdown":
            lines = _student_markdown(located, is_last, rewrite_links)
            if not lines:  # nothing left once the solution-only text is gone
                continue
        elif cell.cell_type == "code":
            lines = _student_code(located, is_last)
            if _SOLUTION_TAG in [tag.lower() for tag in cell.metadata.get("tags", [])]:
                continue  # checked for balanced markers above, then left out whole
            _check_compiles(located, lines)
        else:
            lines = located.lines
        cell.source = "\n".join(lines)
        student_cells.append(cell)
    notebook.cells = student_cells
    return jupytext.writes(notebook, fmt="py:percent")


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


def _staged_path(solution: Path) -> Path:
    """Where a student version is built: beside its final place (links and the working
    folder are the same), under a hidden name that no student opens."""
    return EXERCISES / f".{solution.stem}.staged.py"


def _discard(staged: Path) -> None:
    for path in (staged, staged.with_suffix(".ipynb")):
        path.unlink(missing_ok=True)


def stage(solution: Path, text: str, execute=notebooks.execute) -> Path:
    """Write ``text`` under a staging name and execute its notebook; return the staged .py.

    Raises when the notebook fails, leaving nothing staged behind.
    """
    staged = _staged_path(solution)
    try:
        staged.write_text(text)
        execute(staged)
        if staged.read_text() != text:
            raise RuntimeError(
                f"the student version of {solution.name} changed when its notebook was built: "
                f"run `tools/notebooks.py build {solution.relative_to(ROOT)}` first so the "
                "solution is in jupytext's canonical form, then run this again."
            )
    except BaseException:  # Ctrl-C too: no half-built files are left in the folder
        _discard(staged)
        raise
    return staged


def build_all(chosen: list[Path], execute=notebooks.execute) -> int:
    """Regenerate the student versions of ``chosen``, all or nothing; the number of failures.

    Every student text is generated (markers checked, stubs compiled) before any notebook
    runs, and every notebook runs before any file is replaced, so a failing build leaves
    the existing student versions exactly as they were.
    """
    try:
        texts = {solution: expected_student_text(solution) for solution in chosen}
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    staged: dict[Path, Path] = {}
    failures = 0
    try:
        for solution, text in texts.items():
            try:
                staged[solution] = stage(solution, text, execute)
                print(f"{student_path(solution).relative_to(ROOT)}: built", flush=True)
            except Exception as error:  # report every failing exercise, not just the first
                failures += 1
                print(f"{student_path(solution).relative_to(ROOT)}: FAILED\n{error}", flush=True)
        if failures:
            print(f"{failures} failed: no student version was changed", file=sys.stderr)
            return failures
        for solution, path in staged.items():
            target = student_path(solution)
            os.replace(path.with_suffix(".ipynb"), target.with_suffix(".ipynb"))
            os.replace(path, target)
        staged.clear()
    finally:
        for path in staged.values():
            _discard(path)
    return 0


# --------------------------------------------------------------------------- live copies
LESSONS = ROOT / "lessons"
LIVE = LESSONS / "live"
LIVE_TAG = "live"
NBVAL_TAG = "nbval-check-output"  # dropped in live copies: their outputs are compared nowhere
LIVE_PROMPT_NAMES = 4  # a prompt names at most this many of what the cell defines
_LESSON_NAME = re.compile(r"^\d\d-.+\.(ipynb|py)$")
# Appended to the first cell of every live copy, so nobody edits a generated file.
LIVE_BANNER = (
    "> **Live-coding copy** of [the lesson]({lesson}): the {count} code cells tagged `live` "
    "are empty, a one-line prompt each; type them with the class. Generated by `make live` "
    "from the lesson: edit the lesson, not this file."
)


def lessons() -> list[Path]:
    return sorted(LESSONS.glob("[0-9][0-9]-*.py"))


def live_path(lesson: Path) -> Path:
    return LIVE / lesson.name


def is_live(cell) -> bool:
    return cell.cell_type == "code" and LIVE_TAG in cell.metadata.get("tags", [])


def live_prompt(source: str) -> str:
    """The one-line comment a live cell is emptied to: its own first comment line, or the
    names it defines (functions, classes, variables), or a generic prompt."""
    first = source.lstrip().split("\n", 1)[0].strip()
    if first.startswith("#") and first.lstrip("#").strip():
        return f"# Live: {first.lstrip('#').strip()}"
    defined: list[str] = []
    tree = ast.parse(TransformerManager().transform_cell(source))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.append(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            defined += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    names = [n for n in dict.fromkeys(defined) if not n.startswith("_")]  # in order, once
    if names:
        shown = ", ".join(f"`{name}`" for name in names[:LIVE_PROMPT_NAMES])
        more = len(names) - LIVE_PROMPT_NAMES
        return f"# Live: write the code that defines {shown}" + (
            f" and {more} more" if more > 0 else ""
        )
    return "# Live: type this cell with the class (it is in the lesson)"


def _rewrite_live_link(match: re.Match) -> str:
    """A relative link of a lesson, re-based for lessons/live/; links to lessons (and to the
    lesson itself) lead to live copies. Targets that are no file here (a formula's ``](z)``)
    are left alone."""
    path, _, anchor = match.group("target").partition("#")
    absolute = (LESSONS / path).resolve()
    if not absolute.exists():
        return match.group(0)
    if absolute.parent == LESSONS.resolve() and _LESSON_NAME.match(absolute.name):
        absolute = LIVE / absolute.name
    relative = Path(os.path.relpath(absolute, LIVE)).as_posix()
    return f"]({relative}{'#' + anchor if anchor else ''})"


def live_source(lesson_text: str, name: str = "<lesson>") -> str:
    """The live-coding copy of a lesson's py:percent text (pure function: no files touched)."""
    notebook = jupytext.reads(lesson_text, fmt="py:percent")
    count = 0
    for cell in notebook.cells:
        if LIVE_TAG in cell.metadata.get("tags", []) and not is_live(cell):
            raise MarkerError(f"{name}: only code cells can be tagged {LIVE_TAG!r}")
        if NBVAL_TAG in cell.metadata.get("tags", []):  # nbval never runs a live copy
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != NBVAL_TAG]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
        if is_live(cell):
            cell.source = live_prompt(cell.source)
            count += 1
        elif cell.cell_type == "markdown":
            cell.source = _LINK.sub(_rewrite_live_link, cell.source)
    if count == 0:
        raise MarkerError(f"{name}: no code cell is tagged {LIVE_TAG!r}; nothing to live-code")
    first = notebook.cells[0]
    if first.cell_type != "markdown":
        raise MarkerError(f"{name}: a lesson starts with its title, a markdown cell")
    lesson_link = Path(os.path.relpath(LESSONS / Path(name).with_suffix(".ipynb").name, LIVE))
    banner = LIVE_BANNER.format(lesson=lesson_link.as_posix(), count=count)
    first.source = f"{first.source}\n\n{banner}"
    return jupytext.writes(notebook, fmt="py:percent")


def live_notebook_text(live_text: str) -> str:
    """The live copy's .ipynb: its cells, stable ids and slide metadata, no outputs."""
    notebook = jupytext.reads(live_text, fmt="py:percent")
    notebooks.give_stable_ids(notebook)
    notebooks.add_slide_metadata(notebook)
    notebook.metadata["kernelspec"] = dict(notebooks.KERNELSPEC)  # opens without asking
    return jupytext.writes(notebook, fmt="ipynb")


def live_files(lesson: Path, into: Path | None = None) -> dict[Path, str]:
    """What ``make live`` writes for one lesson: the copy's .py and .ipynb, by path (in
    lessons/live/, or ``into`` another folder, e.g. to compare; the text is the same)."""
    text = live_source(lesson.read_text(), lesson.name)
    target = (into or LIVE) / lesson.name
    return {target: text, target.with_suffix(".ipynb"): live_notebook_text(text)}


def live_main(files: list[str], check: bool, into: Path | None = None) -> int:
    into = into or LIVE
    # By default every lesson that tags live cells (the setup check has nothing to type).
    chosen = [Path(f).resolve() for f in files] or [
        lesson for lesson in lessons() if any(map(is_live, jupytext.read(lesson).cells))
    ]
    for path in chosen:
        if path.parent != LESSONS.resolve() or path.suffix != ".py" or not path.exists():
            print(f"error: {path}: expected a lesson source lessons/NN-name.py", file=sys.stderr)
            return 2
    try:
        wanted = {
            path: text for lesson in chosen for path, text in live_files(lesson, into).items()
        }
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    # A lesson that was renamed or deleted must not leave its old live copy behind.
    orphaned = sorted(set(into.glob("*.*")) - set(wanted)) if not files else []
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    if check:
        for path in stale:
            print(f"{path}: stale (run `make live`)")
        for path in orphaned:
            print(f"{path}: no lesson of that name (run `make live`)")
        if not stale and not orphaned:
            print("all live-coding copies are up to date")
        return 1 if stale or orphaned else 0
    into.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(wanted[path])
        print(f"{path}: written")
    for path in orphaned:
        path.unlink()
        print(f"{path}: deleted (no lesson of that name)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="solution .py files (default: all)")
    parser.add_argument("--check", action="store_true", help="only report stale versions")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--live", action="store_true", help="the lessons' live-coding copies (files: lessons)"
    )
    args = parser.parse_args(argv)
    if args.live:
        return live_main(args.files, args.check)
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
    to_build = [solution for solution, reasons in stale.items() if reasons or args.force]
    for solution in stale.keys() - set(to_build):
        print(f"{student_path(solution).relative_to(ROOT)}: up to date")
    failures = build_all(to_build)
    for orphan in orphans():
        print(f"warning: {orphan.relative_to(ROOT)} has no solution; delete it (and its .ipynb)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
