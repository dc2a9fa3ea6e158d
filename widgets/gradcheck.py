"""Gradient checking: compare a hand-written gradient with central finite differences.

The one home of the idea, taught in lesson 3 and reused everywhere a gradient is
checked: lesson 3's matrix-form MLP (:func:`widgets.mlp_by_hand.gradient_check`), lesson
4's layers (:func:`widgets.numpy_nn.gradient_check`), the backprop stepper's check column
(:mod:`widgets.backprop_tape`), the exercise checks and the tests.

* :func:`numerical_gradient` nudges each entry of an array by ±ε and differentiates a
  loss that reads the array: ``(f(θ+ε) − f(θ−ε)) / 2ε``, with an error of order ε².
* :func:`relative_error` compares two gradients independently of their scale.
* :func:`check_gradients` does both for several named arrays at once.
* :func:`scalar_slope` differentiates a function of one number with a step relative to
  its size, and says when there is no slope to estimate (a kink, a domain edge).

Checks need float64: float32 rounds at about 1e-7, which divided by ε = 1e-6 would
drown the slope.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np


def numerical_gradient(
    function: Callable[[], float],
    array: np.ndarray,
    epsilon: float = 1e-6,
    entries: Sequence[int] | None = None,
) -> np.ndarray:
    """Central finite differences ``(f(θ+ε) - f(θ-ε)) / 2ε`` for every entry of ``array``.

    ``function()`` takes no argument and reads ``array``, which is perturbed in place and
    restored exactly after each entry. With ``entries`` (flat indices) only those entries
    are differentiated and a 1-D array of their slopes is returned. It costs two forward
    passes per entry: a check, not a method.
    """
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"the array to differentiate must be floating point, got {array.dtype}")
    indices = range(array.size) if entries is None else entries
    slopes = np.zeros(len(indices), dtype=float)
    for k, index in enumerate(indices):
        original = array.flat[index]
        array.flat[index] = original + epsilon
        loss_plus = function()
        array.flat[index] = original - epsilon
        loss_minus = function()
        array.flat[index] = original
        slopes[k] = (loss_plus - loss_minus) / (2.0 * epsilon)
    return slopes.reshape(array.shape) if entries is None else slopes


def relative_error(analytic, numerical) -> float:
    """``‖a - n‖ / (‖a‖ + ‖n‖)``: near 1e-9 for a correct gradient, near 1 for a wrong one.

    Relative rather than absolute, so that it does not depend on the gradient's scale;
    0 when both are exactly zero. Works for scalars and arrays alike.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    # Gradients of 1e200 and beyond overflow the norms: the answer is then inf or NaN,
    # which every caller reads as "no agreement", without a warning in the student's view.
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.linalg.norm(analytic) + np.linalg.norm(numerical)
        return 0.0 if scale == 0 else float(np.linalg.norm(analytic - numerical) / scale)


def check_gradients(
    function: Callable[[], float],
    arrays: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    *,
    epsilon: float = 1e-6,
    entries_per_array: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, float]:
    """The relative error between ``analytic[name]`` and the numerical gradient of
    ``function()`` with respect to ``arrays[name]``, for every name.

    ``function`` must read the arrays (they are perturbed in place). With
    ``entries_per_array``, at most that many entries of each array are checked, drawn
    at random by ``rng``: enough to catch a wrong formula, at a fraction of the cost.
    """
    errors = {}
    for name, array in arrays.items():
        entries = None
        if entries_per_array is not None:
            rng = np.random.default_rng(0) if rng is None else rng
            count = min(array.size, entries_per_array)
            entries = rng.choice(array.size, size=count, replace=False)
        numerical = numerical_gradient(function, array, epsilon, entries)
        expected = np.asarray(analytic[name], dtype=np.float64)
        errors[name] = relative_error(
            expected if entries is None else expected.flat[entries], numerical
        )
    return errors


_ROUNDING = 4 * 2.2e-16  # a few float64 ulps: how far rounding moves an evaluation


def relative_step(x: float, epsilon: float = 1e-6) -> float:
    """The finite-difference step for ``x``: ``epsilon`` times its size (``epsilon`` at 0).

    A fixed step vanishes next to 1e11 (the output does not move) and crosses zero next
    to 1e-7 (a root or a log leaves its domain); a relative one does neither. Where
    ``epsilon * |x|`` underflows to 0 (a subnormal ``x``, as good as 0), ``epsilon``."""
    step = epsilon * abs(x)
    return step if step > 0 else epsilon


def rounding_uncertainty(value: float, x: float, epsilon: float = 1e-6) -> float:
    """How far rounding alone can move :func:`scalar_slope`'s estimate at ``x`` when the
    function's value there is ``value``: a few ulps of ``value`` divided by the step.

    A node that is small next to the output (``c`` in ``(a·b + c)·a`` with a = 1e5) is
    nudged by a tiny step that changes a huge output by little more than its rounding."""
    return _ROUNDING * abs(value) / relative_step(x, epsilon)


def scalar_slope(function: Callable[[float], float], x: float, epsilon: float = 1e-6):
    """The central-difference slope of ``function`` at ``x``, or None where it has none.

    None when a nudge leaves the function's domain (a log or a root of a negative
    number, a division by zero, an overflow), or when ``x`` sits on a kink (ReLU at 0):
    there the one-sided slopes disagree by the same amount whatever the step, while
    for a smooth function their gap shrinks with the step.
    """
    step = relative_step(x, epsilon)
    try:
        centre = function(x)
        gaps, central = [], None
        for h in (step, step / 10):
            plus, minus = function(x + h), function(x - h)
            if not all(math.isfinite(v) for v in (centre, plus, minus)):
                return None
            gaps.append(abs((plus - centre) - (centre - minus)) / h)
            central = (plus - minus) / (2 * h) if central is None else central
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    noise = _ROUNDING * max(abs(centre), 1e-300) / (step / 10)  # rounding in the small gap
    if gaps[1] > 0.5 * gaps[0] and gaps[1] > 100 * noise:
        return None  # the gap did not shrink with the step: a kink
    return central
