"""What the checks tell a student: comparisons that name the first real problem, and
exceptions explained with the student's own line.

Each message says, in its first sentence, the *first* thing wrong, in this order: nothing
returned (``None``), not numbers, complex numbers, the wrong dtype, the wrong shape, NaN,
infinity, then wrong values (with the plausible mistake that explains them). Messages
describe the mistake and the expectation; they never quote the solution's code.
"""

from __future__ import annotations

import inspect
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Frames inside these folders are ours or a library's; the student's own line is elsewhere.
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_SKIPPED_FRAMES = (str(_PACKAGE_DIR), "site-packages", "dist-packages", "/lib/python3")


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


def _none_inside(value, path: str = "") -> str | None:
    """Where a ``None`` hides in nested lists/tuples (``"[1]"``), or None when there is none."""
    if value is None:
        return path or "the result"
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _none_inside(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _dtype_of(value):
    """The NumPy dtype a result carries (tensors, arrays, numbers), or None for containers."""
    if hasattr(value, "detach") and hasattr(value, "dtype"):  # a torch tensor
        return value.detach().cpu().numpy().dtype if value.numel() else np.dtype("float32")
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, int):
        return np.dtype(int)
    if isinstance(value, complex):
        return np.dtype(complex)
    return None


def _as_array(value):
    """NumPy view of a student's result (tensors, lists, numbers), or None if impossible.

    Complex values are kept complex (a silent cast would drop the imaginary part and warn).
    """
    if value is None:
        return None
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
        if array.dtype.kind == "c":
            return array
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


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


def _first_bad(mask: np.ndarray) -> str:
    index = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return f" (first at index {tuple(int(i) for i in index)})" if mask.ndim else ""


def _nan_message(what: str, have: np.ndarray) -> str:
    return (
        f"{what} contains NaN (not a number){_first_bad(np.isnan(have))}. Usual causes: "
        "exp() of a large number overflowing to inf, then inf / inf (subtract the maximum "
        "first), 0/0, log of a negative number, or a NaN in an input."
    )


def _inf_message(what: str, have: np.ndarray) -> str:
    return (
        f"{what} contains inf{_first_bad(np.isinf(have))}. Usual causes: exp() of a large "
        "number (subtract the maximum first), log(0), or a division by zero."
    )


def structural_problem(
    got, *, what: str, shape=None, dtype=None, finite: bool = True
) -> str | None:
    """The first thing wrong with a result before its values are compared, or None.

    In order: nothing returned, a None inside, not numbers, complex numbers, the wrong
    dtype, the wrong shape, then (with ``finite``) NaN and infinity.
    """
    if got is None:
        return f"{what}: your function returned None. Did you forget the `return` statement?"
    hole = _none_inside(got)
    if hole:
        return (
            f"{what}: {hole} is None, not a number: a value was never computed "
            "(a helper without `return`?)."
        )
    have = _as_array(got)
    if have is None:
        return f"{what}: expected numbers, got a {type(got).__name__} ({got!r:.60})."
    if have.dtype.kind == "c":
        return (
            f"{what}: your result holds complex numbers, expected real ones. Usual cause: a "
            "power or square root of a negative number."
        )
    got_dtype = _dtype_of(got)
    if dtype is not None and got_dtype is not None and got_dtype != np.dtype(dtype):
        return f"{what}: expected dtype {np.dtype(dtype)}, got {got_dtype}."
    if shape is not None and have.shape != tuple(shape):
        return (
            f"{what}: expected shape {tuple(shape)}, got {have.shape}.\n"
            f"  → {_shape_advice(have.shape, tuple(shape))}"
        )
    if finite and np.any(np.isnan(have)):
        return _nan_message(what, have)
    if finite and np.any(np.isinf(have)):
        return _inf_message(what, have)
    return None


def compare(
    got,
    expected,
    *,
    what: str,
    mistakes=(),
    atol: float = 1e-6,
    rtol: float = 1e-5,
    dtype=None,
    show_expected: bool = False,
) -> str | None:
    """``None`` when ``got`` matches ``expected``; otherwise the first real problem.

    ``mistakes`` are :class:`Mistake` s; when ``got`` matches one of their results, its
    explanation is added, so the message says *why* the value is wrong, not only that it is.
    ``dtype`` (e.g. ``"float32"``) demands that dtype. The expected values stay out of the
    message (a hidden case's answer is not given away) unless ``show_expected=True``.
    """
    want = np.asarray(expected, dtype=float)
    problem = structural_problem(got, what=what, shape=want.shape, dtype=dtype, finite=False)
    if problem:
        return problem
    have = _as_array(got)
    got_dtype = _dtype_of(got)
    if np.any(np.isnan(have)) and not np.any(np.isnan(want)):
        return _nan_message(what, have)
    if np.any(np.isinf(have)) and not np.any(np.isinf(want)):
        return _inf_message(what, have)
    if np.allclose(have, want, atol=atol, rtol=rtol):
        return None
    if got_dtype is not None and got_dtype.kind in "biu" and not np.allclose(want, np.round(want)):
        return (
            f"{what}: your result has the integer dtype {got_dtype}, so its fractions were cut "
            "off; expected fractional values. Keep floating-point numbers (no int(), no "
            "astype(int), no integer array filled with fractions)."
        )
    if show_expected:
        message = f"{what}: expected {_format(want)}\n    got      {_format(have)}"
    else:
        message = f"{what}: not the expected values; got {_format(have)}"
    if have.size > 4 and show_expected:
        index = np.unravel_index(np.argmax(np.abs(have - want)), want.shape)
        message += (
            f"\n  (largest difference at index {tuple(int(i) for i in index)}: "
            f"expected {want[index]:.6g}, got {have[index]:.6g})"
        )
    for mistake in mistakes:
        alternative = _as_array(mistake.value())
        if (
            alternative is not None
            and alternative.dtype.kind != "c"
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


# --------------------------------------------------------------------------- exceptions
def _student_line(error: BaseException) -> str:
    """`line N of f(): code`, the deepest frame that is neither ours nor a library's."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if not any(part in (frame.filename or "") for part in _SKIPPED_FRAMES):
            code = (frame.line or "").strip()
            return f"line {frame.lineno} of {frame.name}(): {code}" if code else ""
    return ""


# Checked before the shape words: PyTorch's "mat1 and mat2 must have the same dtype" is a
# dtype problem although it names the matrices.
_DTYPE_WORDS = (
    "dtype",
    "expected scalar type",
    "double and float",
    "float and double",
    "found dtype",
    "expected both vectors to have same dtype",
)
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
    if isinstance(error, SystemExit):
        lines = [
            "your function called exit() (it raised SystemExit): exit() stops the whole "
            "program; return a value instead"
        ]
    else:
        lines = [f"your function raised {name}: {text}" if text else f"your function raised {name}"]
    where = _student_line(error)
    if where:
        lines.append(f"  at {where}")
    lowered = text.lower()
    if any(word in lowered for word in _DTYPE_WORDS):
        lines.append(
            "  → a dtype mismatch: two operands have different number types (e.g. float64 "
            "and float32). Convert one so both match."
        )
        if arguments:
            lines.append(f"    Your function received {arguments}.")
    elif any(word in lowered for word in _SHAPE_WORDS):
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


def _describe(value) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        dtype = str(value.dtype).replace("torch.", "")
        return f"shape {tuple(value.shape)} {dtype}"
    if isinstance(value, bool) or value is None or np.isscalar(value):
        return repr(value)
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if len(value) <= 4:
            return f"a {kind} of {len(value)} ({', '.join(_describe(v) for v in value)})"
        return f"a {kind} of {len(value)} items"
    return f"a {type(value).__name__}"


def describe_arguments(function, *args, **kwargs) -> str:
    """``x shape (2,) float64, W1 shape (3, 2) float64, bias 0.5``: what a function received."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):  # builtins, or a signature that does not fit the call
        bound = {f"argument {i + 1}": a for i, a in enumerate(args)} | kwargs
    return ", ".join(f"{name} {_describe(value)}" for name, value in bound.items())
