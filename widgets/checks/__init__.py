"""Automatic checks for the exercises: specific feedback instead of tracebacks.

A student calls ``check.perceptron_update(my_function)`` in a notebook and reads one of
three verdicts, printed where the call is::

    ✓ Task 2 · perceptron_update: all 6 hidden cases pass.
    ✗ Task 2 · perceptron_update, case "a right prediction (nothing changes)": ...
    ○ Task 2 · perceptron_update: not done yet (your code still raises NotImplementedError).

Each exercise has a module here (``ex01_perceptron`` ...) whose checks run hidden cases
against the package's reference implementations, the same code the lessons teach. This
module holds the machinery they share: running the student's code safely
(:class:`Checker`), comparing results with messages that point at the mistake
(:func:`compare`), explaining exceptions (shape errors in particular) and the
progressive hints (:class:`Hints`).
"""

from __future__ import annotations

import copy
import inspect
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PASSED, FAILED, NOT_DONE = "passed", "failed", "not done"
# Every verdict printed in this Python process, in order: a solution notebook ends with
# assert_all_passed(), because verdicts that quote training figures are not compared as
# text by nbval (their digits differ between machines).
_printed_reports: list[Report] = []
_ICONS = {PASSED: "✓", FAILED: "✗", NOT_DONE: "○"}
# Frames inside these folders are ours or a library's; the student's own line is elsewhere.
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_SKIPPED_FRAMES = (str(_PACKAGE_DIR), "site-packages", "dist-packages", "/lib/python3")


# --------------------------------------------------------------------------- verdicts
@dataclass
class Report:
    """The verdict of one check: its status and the lines printed for the student."""

    title: str
    status: str = PASSED
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __bool__(self) -> bool:
        return self.passed

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        return self.text

    def _ipython_display_(self):
        # The report is printed when the check runs (wherever the call sits in the cell);
        # returning it as a cell's last value must not print it a second time.
        pass


def assert_all_passed() -> int:
    """Raise AssertionError unless every verdict printed so far is ✓; return their number.

    Solution notebooks end with it (in a cell tagged ``solution``, which students never
    see), so a check that a reference solution fails breaks the notebook test on any
    machine, whatever figures its verdict prints.
    """
    if not _printed_reports:
        raise AssertionError("no check has printed a verdict yet")
    failed = [report.text for report in _printed_reports if not report.passed]
    if failed:
        raise AssertionError("checks that did not pass:\n" + "\n".join(failed))
    return len(_printed_reports)


class CheckFailed(Exception):
    """Raised inside a check to stop at the first wrong case; carries the student's message."""


class NotDone(Exception):
    """The student's function still raises NotImplementedError."""


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong answer: what it would return, and what to tell the student."""

    result: object  # the wrong answer, or a function computing it (may fail on some shapes)
    explanation: str

    def value(self):
        if not callable(self.result):
            return self.result
        try:
            return self.result()
        except Exception:  # e.g. a transposed product that does not fit this case's shapes
            return None


def _as_array(value):
    """NumPy view of a student's result (torch tensors, lists, numbers), or None if impossible."""
    if value is None:
        return None
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array


def _format(array: np.ndarray) -> str:
    if array.ndim == 0:
        return f"{float(array):.6g}"
    return np.array2string(
        array, precision=4, suppress_small=True, threshold=12, edgeitems=2, max_line_width=90
    ).replace("\n", "\n      ")


def _shape_advice(got: tuple, expected: tuple) -> str:
    if len(got) == 2 and got == expected[::-1]:
        return (
            "the rows and columns are swapped: the result looks transposed. Check the order "
            "of the matrix product, or whether a weight matrix needs .T."
        )
    if got + (1,) == expected:
        return (
            "a column of shape (n, 1) is expected, not a flat vector (n,): "
            "use .reshape(-1, 1) or keepdims=True."
        )
    if expected == got[:-1] and got[-1] == 1:
        return "a flat vector (n,) is expected, not a column (n, 1): use .ravel() or [:, 0]."
    if len(expected) == 1 and got == expected * 2:
        return (
            f"a {got[0]} × {got[0]} matrix where a vector of {expected[0]} is expected: usually "
            "a column (n, 1) broadcast against a vector (n,), or an outer product where an "
            "element-wise one was meant."
        )
    if expected and len(got) > len(expected) and got[-len(expected) :] == expected:
        return (
            "your result has an extra leading dimension: did you forget to sum "
            "(or average) over the batch?"
        )
    if len(got) == 2 and len(expected) == 2 and got[0] == got[1] and expected[0] != expected[1]:
        return (
            "a square result where a rectangular one is expected usually means a (n, 1) "
            "column was broadcast against a (n,) vector: check the shapes of both operands."
        )
    if expected == () and got != ():
        return "a single number is expected: reduce your array with .sum() or .mean()."
    if got == () and expected != ():
        return "an array is expected, not a single number: did you sum or average too early?"
    if int(np.prod(got)) == int(np.prod(expected)):
        return "the right number of values in the wrong shape: check your reshape / flatten."
    return "print the shapes of the arrays involved, step by step, to see where it goes wrong."


def compare(
    got, expected, *, what: str, mistakes=(), atol: float = 1e-6, rtol: float = 1e-5
) -> str | None:
    """``None`` when ``got`` matches ``expected``; otherwise a message that names the problem.

    ``mistakes`` are :class:`Mistake` s; when ``got`` matches one of their results, its
    explanation is added, so the message says *why* the value is wrong, not only that it is.
    """
    if got is None:
        return f"{what}: your function returned None. Did you forget the `return` statement?"
    want = np.asarray(expected, dtype=float)
    have = _as_array(got)
    if have is None:
        return f"{what}: expected numbers, got a {type(got).__name__} ({got!r:.60})."
    if have.shape != want.shape:
        return (
            f"{what}: expected shape {want.shape}, got {have.shape}.\n"
            f"  → {_shape_advice(have.shape, want.shape)}"
        )
    if np.all(np.isfinite(want)) and not np.all(np.isfinite(have)):
        return (
            f"{what} contains NaN or inf. Usual causes: exp() of a large number "
            "(subtract the maximum first), log(0), or a division by zero."
        )
    if np.allclose(have, want, atol=atol, rtol=rtol):
        return None
    message = f"{what}: expected {_format(want)}\n    got      {_format(have)}"
    if have.size > 4:
        index = np.unravel_index(np.argmax(np.abs(have - want)), want.shape)
        message += (
            f"\n  (largest difference at index {tuple(int(i) for i in index)}: "
            f"expected {want[index]:.6g}, got {have[index]:.6g})"
        )
    for mistake in mistakes:
        alternative = _as_array(mistake.value())
        if (
            alternative is not None
            and alternative.shape == have.shape
            and np.allclose(have, alternative, atol=atol, rtol=rtol)
        ):
            return message + f"\n  → {mistake.explanation}"
    if np.any(want != 0) and np.allclose(have, -want, atol=atol, rtol=rtol):
        return message + "\n  → the sign is flipped: check the order of a subtraction."
    if want.size > 1 and np.any(want != 0) and np.any(have != 0):  # a ratio of two numbers
        # says nothing; a common ratio across many entries points at a constant factor.
        ratio = have[want != 0] / want[want != 0]
        if np.allclose(ratio, ratio.flat[0], rtol=1e-4) and abs(ratio.flat[0]) > 1e-12:
            factor = ratio.flat[0]
            return message + (
                f"\n  → every value is {factor:.4g} times the expected one: "
                "a missing or extra constant factor (a 2, 1/N, or the learning "
                "rate?)."
            )
    if want.ndim == 2 and want.shape[0] == want.shape[1] and np.allclose(have, want.T):
        return message + "\n  → this is the transpose of the expected matrix."
    return message


# --------------------------------------------------------------------------- running code
def _student_line(error: BaseException) -> str:
    """`line N of f(): code`, the deepest frame that is neither ours nor a library's."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if not any(part in (frame.filename or "") for part in _SKIPPED_FRAMES):
            code = (frame.line or "").strip()
            return f"line {frame.lineno} of {frame.name}(): {code}" if code else ""
    return ""


_SHAPE_WORDS = (
    "shape",
    "broadcast",
    "aligned",
    "dimension",
    "size of tensor",
    "mat1 and mat2",
    "matmul",
    "must match the size",
    "index",
)


def explain_exception(error: BaseException, arguments: str = "") -> str:
    """A student's exception in a few lines: what, where, and what to look at."""
    name = type(error).__name__
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    lines = [f"your function raised {name}: {text}" if text else f"your function raised {name}"]
    where = _student_line(error)
    if where:
        lines.append(f"  at {where}")
    if any(word in text.lower() for word in _SHAPE_WORDS):
        lines.append("  → a shape error: the arrays in that line do not fit together.")
        if arguments:
            lines.append(f"    Your function received {arguments}.")
        lines.append(
            "    Print each operand's .shape just before that line and compare it with "
            "the shapes the task describes."
        )
    elif isinstance(error, (TypeError, AttributeError)) and arguments:
        lines.append(f"  → your function received {arguments}: check what each one is.")
    return "\n".join(lines)


def describe_arguments(function, *args, **kwargs) -> str:
    """``x (2,), W1 (3, 2), bias 0.5``: what a function received, by parameter name."""

    def describe(value) -> str:
        if hasattr(value, "shape"):
            return f"shape {tuple(value.shape)}"
        if np.isscalar(value):
            return repr(value)
        return f"a {type(value).__name__}"

    try:
        bound = inspect.signature(function).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):  # builtins, or a signature that does not fit the call
        bound = {f"argument {i + 1}": a for i, a in enumerate(args)} | kwargs
    return ", ".join(f"{name} {describe(value)}" for name, value in bound.items())


class Checker:
    """Runs one check: calls the student's code, compares, and collects the verdict.

    Use it as a context manager; the first :meth:`fail` (or an unfinished function)
    ends the check, and the report is printed when the block exits::

        with Checker("Task 1 · perceptron_update") as check:
            got = check.call(student_function, weights, bias, x, case="boundary z = 0")
            check.expect(got, expected, what="new weights", case="boundary z = 0")
        return check.report
    """

    def __init__(self, title: str, *, show: bool = True):
        self.title = title
        self.show = show
        self.report = Report(title)
        self.cases = 0
        self.summary = ""

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, kind, error, tb) -> bool:
        if error is None:
            cases = f"all {self.cases} hidden cases pass" if self.cases else "correct"
            self.report.lines = [f"{_ICONS[PASSED]} {self.title}: {self.summary or cases}."]
        elif isinstance(error, NotDone):
            self.report.status = NOT_DONE
            self.report.lines = [
                f"{_ICONS[NOT_DONE]} {self.title}: not done yet ({error}).",
                "  Write your code in its cell, run that cell, then run this check again.",
            ]
        elif isinstance(error, CheckFailed):
            self.report.status = FAILED
            self.report.lines = [f"{_ICONS[FAILED]} {self.title}{error}"]
        elif isinstance(error, Exception):
            # A result the check could not even read (e.g. a tuple of the wrong length).
            self.report.status = FAILED
            self.report.lines = [
                f"{_ICONS[FAILED]} {self.title}: the check could not use "
                f"your result ({type(error).__name__}: {error})."
            ]
        else:  # KeyboardInterrupt and friends: let them through
            return False
        if self.show:
            print(self.report.text)
            _printed_reports.append(self.report)
        return True

    def fail(self, message: str, *, case: str | None = None):
        where = f', case "{case}":' if case else ":"
        raise CheckFailed(f"{where}\n  " + message.replace("\n", "\n  "))

    def call(self, function, *args, case: str | None = None, **kwargs):
        """Call the student's function; translate its exceptions into a verdict."""
        if not callable(function):
            self.fail(
                f"expected a function, got a {type(function).__name__}. Pass the function "
                "itself, without calling it: check.x(my_function), not my_function()."
            )
        arguments = describe_arguments(function, *args, **kwargs)
        try:
            # The student's own print() calls stay visible: they are how people debug.
            return function(*args, **kwargs)
        except NotImplementedError as error:
            task = str(error).split(":")[0]
            if task and not self.title.startswith(task + " "):
                # e.g. task 5's check needs task 3's function, which is not written yet
                raise NotDone(f"it needs {error}, which still raises NotImplementedError") from None
            raise NotDone("your code still raises NotImplementedError") from None
        except Exception as error:
            self.fail(explain_exception(error, arguments), case=case)

    def call_unchanged(self, function, *args, case: str | None = None, **kwargs):
        """Like :meth:`call`, and fail if the function modified an array argument in place."""
        originals = [copy.deepcopy(a) for a in args]
        result = self.call(function, *args, case=case, **kwargs)
        for position, (before, after) in enumerate(zip(originals, args, strict=True)):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                self.fail(
                    f"your function changed its argument number {position + 1} in place "
                    "(e.g. `weights += ...`). Compute a new array instead "
                    "(`weights = weights + ...`), so the caller's copy stays intact.",
                    case=case,
                )
        return result

    def expect(
        self,
        got,
        expected,
        *,
        what: str,
        case: str | None = None,
        mistakes=(),
        atol: float = 1e-6,
        rtol: float = 1e-5,
    ):
        """Fail with :func:`compare`'s message unless ``got`` matches ``expected``."""
        message = compare(got, expected, what=what, mistakes=mistakes, atol=atol, rtol=rtol)
        if message:
            self.fail(message, case=case)

    def unpack(self, result, count: int, *, what: str, case: str | None = None) -> tuple:
        """``result`` as a tuple of ``count`` values, or a clear failure."""
        if not isinstance(result, (tuple, list)) or len(result) != count:
            got = (
                f"a {type(result).__name__} of length {len(result)}"
                if isinstance(result, (tuple, list))
                else f"a {type(result).__name__}"
            )
            self.fail(f"your function should return {what} ({count} values), got {got}.", case=case)
        return tuple(result)

    def passed_case(self):
        self.cases += 1


# --------------------------------------------------------------------------- hints
class Hints:
    """Hints revealed one at a time: ``hint(1)`` shows the next hint for task 1.

    ``hint(1, level=3)`` jumps to (and shows) a given hint; :meth:`button` gives a
    button that reveals the next hint on each click.
    """

    def __init__(self, hints: dict[int, list[str]]):
        self._hints = hints
        self._shown = dict.fromkeys(hints, 0)

    def text(self, task: int, level: int) -> str:
        if task not in self._hints:
            raise ValueError(
                f"there is no task {task!r}; tasks with hints: {', '.join(map(str, self._hints))}"
            )
        hints = self._hints[task]
        if not 1 <= level <= len(hints):
            raise ValueError(f"task {task} has hints 1 to {len(hints)}, not {level}")
        more = "" if level == len(hints) else "  (run again for the next hint)"
        return f"💡 Task {task}, hint {level} of {len(hints)}: {hints[level - 1]}{more}"

    def __call__(self, task: int, level: int | None = None) -> None:
        if level is None:
            level = min(self._shown.get(task, 0) + 1, len(self._hints.get(task, [None])))
        print(self.text(task, level))
        self._shown[task] = max(self._shown.get(task, 0), level)

    def button(self, task: int):
        """A button revealing task ``task``'s hints one per click, below it."""
        return HintButton(self, task)


class HintButton:
    """The thin ipywidgets view over :class:`Hints` (the model is ``Hints.text``)."""

    def __init__(self, hints: Hints, task: int):
        import ipywidgets

        self.hints, self.task, self.level = hints, task, 0
        self.total = len(hints._hints[task])
        self.button = ipywidgets.Button(
            description=f"Show hint 1 of {self.total}", icon="lightbulb-o"
        )
        self.shown = ipywidgets.HTML()
        self.widget = ipywidgets.VBox([self.button, self.shown])
        self.button.on_click(lambda _: self.reveal())

    def reveal(self) -> str:
        """Reveal the next hint (what a click does); returns the text now shown."""
        import html

        self.level = min(self.level + 1, self.total)
        texts = [self.hints._hints[self.task][i] for i in range(self.level)]
        with self.widget.hold_sync():
            self.shown.value = "".join(
                f"<p>💡 <b>Hint {i + 1}.</b> {html.escape(t)}</p>" for i, t in enumerate(texts)
            )
            done = self.level == self.total
            self.button.description = (
                "All hints shown" if done else f"Show hint {self.level + 1} of {self.total}"
            )
            self.button.disabled = done
        return "\n".join(texts)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A static page (GitHub, nbviewer) cannot run the button: say how to get the hints.
        bundle["text/plain"] = (
            f"[{self.total} hints for task {self.task}: run the notebook and "
            f"click, or call check.hint({self.task})]"
        )
        return bundle
