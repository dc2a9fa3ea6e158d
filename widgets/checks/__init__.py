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
(:func:`compare`, in :mod:`widgets.checks.feedback`), explaining exceptions (shape and
dtype errors in particular), the progressive hints (:class:`Hints`) and the optional
stretch tasks, checked for honesty (:func:`check_claims`).

A check leaves the student's session as it found it: the global random generators
(``random``, NumPy's legacy one, PyTorch's) are restored when it ends, library warnings
raised while it runs are not shown, and only Ctrl-C (``KeyboardInterrupt``) gets through.
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from widgets.checks.feedback import (  # noqa: F401  (the names the exercise checks import)
    Mistake,
    _as_array,
    compare,
    describe_arguments,
    explain_exception,
    structural_problem,
)

PASSED, FAILED, NOT_DONE = "passed", "failed", "not done"
# Every verdict printed in this Python process, in order: a solution notebook ends with
# assert_all_passed(), because verdicts that quote training figures are not compared as
# text by nbval (their digits differ between machines).
_printed_reports: list[Report] = []
_ICONS = {PASSED: "✓", FAILED: "✗", NOT_DONE: "○"}


# --------------------------------------------------------------------------- verdicts
@dataclass
class Report:
    """The verdict of one check: its status and the lines printed for the student."""

    title: str
    status: str = PASSED
    lines: list[str] = field(default_factory=list)
    optional: bool = False  # a stretch task: "not done" is a fine verdict for it

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
    failed = [
        report.text
        for report in _printed_reports
        if not report.passed and not (report.optional and report.status == NOT_DONE)
    ]
    if failed:
        raise AssertionError("checks that did not pass:\n" + "\n".join(failed))
    return len(_printed_reports)


class CheckFailed(Exception):
    """Raised inside a check to stop at the first wrong case; carries the student's message."""


class NotDone(Exception):
    """The student's function still raises NotImplementedError."""


class Checker:
    """Runs one check: calls the student's code, compares, and collects the verdict.

    Use it as a context manager; the first :meth:`fail` (or an unfinished function)
    ends the check, and the report is printed when the block exits::

        with Checker("Task 1 · perceptron_update") as check:
            got = check.call(student_function, weights, bias, x, case="boundary z = 0")
            check.expect(got, expected, what="new weights", case="boundary z = 0")
        return check.report
    """

    def __init__(self, title: str, *, show: bool = True, optional: bool = False):
        self.title = title
        self.show = show
        self.report = Report(title, optional=optional)
        self.cases = 0
        self.summary = ""
        self._session = contextlib.ExitStack()

    def __enter__(self) -> Checker:
        self._session.enter_context(_student_session_kept())
        return self

    def __exit__(self, kind, error, tb) -> bool:
        self._session.close()
        if error is None:
            cases = f"all {self.cases} hidden cases pass" if self.cases else "correct"
            self.report.lines = [f"{_ICONS[PASSED]} {self.title}: {self.summary or cases}."]
        elif isinstance(error, NotDone):
            self.report.status = NOT_DONE
            if self.report.optional:
                self.report.lines = [f"{_ICONS[NOT_DONE]} {self.title}: optional, not tried yet."]
            else:
                self.report.lines = [
                    f"{_ICONS[NOT_DONE]} {self.title}: not done yet ({error}).",
                    "  Write your code in its cell, run that cell, then run this check again.",
                ]
        elif isinstance(error, CheckFailed):
            self.report.status = FAILED
            self.report.lines = [f"{_ICONS[FAILED]} {self.title}{error}"]
        elif isinstance(error, (Exception, SystemExit)):
            # A result the check could not even read (e.g. a tensor of another dtype), or
            # student code the check ran indirectly (a model's forward) that raised.
            self.report.status = FAILED
            self.report.lines = [
                f"{_ICONS[FAILED]} {self.title}: the check could not use your result:\n  "
                + explain_exception(error)
                .replace("your function raised", "it raised", 1)
                .replace("\n", "\n  ")
            ]
        else:  # KeyboardInterrupt: Ctrl-C must stop the cell, never be swallowed
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
        except (Exception, SystemExit) as error:  # not KeyboardInterrupt: Ctrl-C stops the cell
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
        dtype=None,
        show_expected: bool = False,
    ):
        """Fail with :func:`compare`'s message unless ``got`` matches ``expected``."""
        message = compare(
            got,
            expected,
            what=what,
            mistakes=mistakes,
            atol=atol,
            rtol=rtol,
            dtype=dtype,
            show_expected=show_expected,
        )
        if message:
            self.fail(message, case=case)

    def expect_numbers(self, got, *, what: str, shape=None, dtype=None, case: str | None = None):
        """Fail unless ``got`` is finite real numbers (of ``shape`` and ``dtype`` if given);
        returns them as a float array."""
        message = structural_problem(got, what=what, shape=shape, dtype=dtype)
        if message:
            self.fail(message, case=case)
        return _as_array(got)

    def unpack(self, result, count: int, *, what: str, case: str | None = None) -> tuple:
        """``result`` as a tuple of ``count`` values, or a clear failure."""
        if result is None:
            self.fail(
                f"your function returned None. Did you forget the `return` statement? It "
                f"should return {what}.",
                case=case,
            )
        if not isinstance(result, (tuple, list)) or len(result) != count:
            got = (
                f"a {type(result).__name__} of length {len(result)}"
                if isinstance(result, (tuple, list))
                else f"a {type(result).__name__}"
            )
            self.fail(f"your function should return {what} ({count} values), got {got}.", case=case)
        if any(item is None for item in result):
            position = [item is None for item in result].index(True) + 1
            self.fail(
                f"{what}: value {position} of {count} is None, not a number: it was never "
                "computed (a variable left at None, or a helper without `return`?).",
                case=case,
            )
        return tuple(result)

    def passed_case(self):
        self.cases += 1


@contextlib.contextmanager
def _student_session_kept():
    """Restore the global random generators afterwards and keep library warnings quiet.

    A check draws random numbers and runs the student's code; neither may shift the draws
    the student's next cell makes, or print a library's warning under the verdict.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with contextlib.ExitStack() as stack:
        torch = sys.modules.get("torch")
        if torch is not None:
            stack.enter_context(torch.random.fork_rng(devices=[]))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


# --------------------------------------------------------------------------- stretch tasks
def check_claims(
    title: str, experiment, claims: dict | None, *, rtol: float = 0.05, atol: float = 0.02
) -> Report:
    """An optional task, checked for honesty: do the numbers the student claims hold?

    ``experiment()`` is the student's code; it returns a dict of named measurements
    (numbers). ``claims`` maps some of those names to the values the student's answer
    quotes. The check runs the experiment here, in the notebook, and says whether each
    claimed value is what was measured (within ``rtol`` relative or ``atol`` absolute).
    There is no fixed right answer: any honest, measured claim passes.
    """
    with Checker(title, optional=True) as check:
        started = time.perf_counter()
        measured = check.call(experiment, case="your experiment")
        seconds = time.perf_counter() - started
        if measured is None:
            check.fail("your experiment returned None: return a dict of measurements.")
        if not isinstance(measured, dict) or not measured:
            check.fail(
                "your experiment should return a dict {name: number} of what it measured, "
                f"got {type(measured).__name__}."
            )
        if not claims:
            raise NotDone("write your claims into the `claims` dict")
        for name, claimed in claims.items():
            if name not in measured:
                check.fail(
                    f'you claim a value for "{name}", but your experiment does not measure it '
                    f"(it returns {', '.join(map(repr, measured))})."
                )
            value = _number(measured[name])
            if value is None or not math.isfinite(value):
                check.fail(f'"{name}" is not a finite number: your experiment gave {value!r}.')
            if _number(claimed) is None:
                check.fail(f'your claim for "{name}" should be a number, got {claimed!r}.')
            if not math.isclose(value, float(claimed), rel_tol=rtol, abs_tol=atol):
                check.fail(
                    f"you claim {name} = {float(claimed):.4g}, but this run measured "
                    f"{value:.4g}: update the claim (or explain what differs)."
                )
            check.passed_case()
        check.summary = (
            f"{len(claims)} claim(s) hold in this run ("
            + ", ".join(f"{name} = {_number(measured[name]):.3g}" for name in claims)
            + f"; the experiment took {seconds:.1f} s)"
        )
    return check.report


def _number(value) -> float | None:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


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
