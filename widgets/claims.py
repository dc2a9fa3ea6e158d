"""Claims a lesson makes about measured numbers: asserted with a margin, and recorded.

Stored notebook outputs are documentation, not the test: a student's laptop, Binder or
another CI machine runs other BLAS/ATen kernels and prints other digits. So when a lesson
says "this reaches about 89 %", the cell after it says

    check_claim("lesson 4: NumPy MLP test accuracy", test_accuracy, at_least=0.88)

which fails with a readable message when the claim does not hold. The threshold is set
below the smallest value measured over several seeds and CPU code paths by
``tools/measure_margins.py``, which runs every notebook with ``$NN_COURSE_SEED`` set
(see :func:`course_seed`) and ``$NN_COURSE_CLAIMS_LOG`` naming a file that each check
appends its measurement to, then writes the table ``lessons/MARGINS.md``.
``tests/test_claims.py`` keeps that table and the notebooks' thresholds in step.

Claims must be written with literal names and thresholds, so the table and the notebook
can be compared without running anything.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Real

SEED_VARIABLE = "NN_COURSE_SEED"
LOG_VARIABLE = "NN_COURSE_CLAIMS_LOG"
# Set by tools/measure_margins.py only: log every claim and go on, so that one failing
# claim does not hide the measurements of the claims after it in the same cell.
RECORD_ONLY_VARIABLE = "NN_COURSE_CLAIMS_RECORD_ONLY"


def course_seed(base: int = 0) -> int:
    """``base`` shifted by ``$NN_COURSE_SEED`` (0 when unset).

    Lessons seed every source of training randomness through this (``seed_everything``
    does), so the margins tool can rerun a notebook under other seeds. Seeds that fix a
    lesson's *data* (a toy data set the prose describes point by point) stay literal.
    """
    offset = os.environ.get(SEED_VARIABLE, "0")
    try:
        return int(base) + int(offset)
    except ValueError:
        raise ValueError(f"${SEED_VARIABLE} must be a whole number, got {offset!r}") from None


def check_claim(
    name: str,
    value: Real,
    *,
    at_least: Real | None = None,
    at_most: Real | None = None,
) -> float:
    """Assert that ``value`` lies within the claimed bound(s); record it; return it.

    ``name`` says what is measured, e.g. "lesson 5: Adam's loss below SGD's by".
    Comparisons become one number: "A beats B" is ``check_claim(..., b - a, at_least=...)``.
    """
    if at_least is None and at_most is None:
        raise ValueError(f"claim {name!r} needs at_least=, at_most= or both")
    try:
        measured = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"claim {name!r}: expected a number, got {value!r}") from None
    _record(name, measured, at_least, at_most)
    if os.environ.get(RECORD_ONLY_VARIABLE) == "1" and os.environ.get(LOG_VARIABLE):
        return measured
    if not math.isfinite(measured):
        raise AssertionError(f"claim {name!r} failed: the measured value is {measured}")
    if at_least is not None and measured < at_least:
        raise AssertionError(f"claim {name!r} failed: measured {measured:.4g} < {at_least}")
    if at_most is not None and measured > at_most:
        raise AssertionError(f"claim {name!r} failed: measured {measured:.4g} > {at_most}")
    return measured


def _record(name: str, value: float, at_least: Real | None, at_most: Real | None) -> None:
    log = os.environ.get(LOG_VARIABLE)
    if not log:
        return
    entry = {
        "name": name,
        "value": value,
        "at_least": at_least,
        "at_most": at_most,
        "seed": course_seed(0),
    }
    # One line per claim, appended: several notebooks may log to one file at once.
    with open(log, "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")
