"""Checks for exercise 1, the perceptron from scratch, with labels −1 and +1.

Lesson 1 teaches Rosenblatt's rule with labels 0/1 (:mod:`widgets.perceptron`); the
exercise asks for the classic ±1 form, which the lesson did not show:
``ŷ = sign(w·x + b)`` with ``sign(0) = +1``, and on a mistake (``y (w·x + b) <= 0`` with
that convention) ``w += η y x``, ``b += η y``. It makes exactly the updates of the 0/1
rule on the same data, so the expected values come from the package's rule, fed 0/1
labels.
"""

from __future__ import annotations

import numpy as np

from widgets import perceptron as reference
from widgets.activations import step
from widgets.checks import Checker, Hints, Mistake, check_claims, compare
from widgets.toy_data import make_blobs, make_gate

hint = Hints(
    {
        1: [
            "The perceptron looks at the sign of one number, z = w·x + b (a dot product plus "
            "the bias).",
            "Classes are now −1 and +1 instead of 0 and 1. The boundary z = 0 belongs to class +1.",
            "ŷ = +1 if z ≥ 0, otherwise −1.",
        ],
        2: [
            "Only a mistake changes anything. With labels ±1 there is a neat test for a "
            "mistake: compare your prediction with the target.",
            "On a mistake, move w towards x when the target is +1 and away from x when it is "
            "−1; the bias moves the same way, as if its input were always 1. Return new "
            "arrays, leave the caller's intact.",
            "If ŷ ≠ y:  w' = w + η·y·x,  b' = b + η·y;  otherwise w' = w, b' = b.",
        ],
        3: [
            "Start from zero weights and a zero bias, and visit the samples in the order "
            "given, one update each.",
            "One epoch is one pass over all samples. Count the mistakes made during the pass.",
            "Stop after an epoch without a mistake (the data is separated), or after `epochs` "
            "epochs, whichever comes first; return (weights, bias).",
        ],
    }
)


def _sign(z: float) -> float:
    return 1.0 if z >= 0 else -1.0


def _zero_one(target: float) -> float:
    return (target + 1) / 2


# (weights, bias, x, what the case tests)
_PREDICT_CASES = [
    ([1.0, 1.0], -1.5, [1.0, 1.0], "z > 0"),
    ([1.0, 1.0], -1.5, [0.0, 1.0], "z < 0"),
    ([1.0, -1.0], 0.0, [2.0, 2.0], "z = 0 exactly (the boundary belongs to class +1)"),
    ([0.5, -0.25, 2.0], 0.1, [-1.0, 2.0, 0.5], "3 features"),
    ([0.0, 0.0, 0.0, 0.0, 0.0], 0.0, [3.0, -1.0, 2.0, 0.5, 1.0], "all-zero weights: z = 0"),
    ([-2.0, 0.5, 1.0, 0.25, -1.0], -0.2, [1.0, 1.0, 1.0, 1.0, 1.0], "5 features, z < 0"),
]


def predict(student_function):
    """Task 1: the perceptron's class for one sample, −1 or +1."""
    with Checker("Task 1 · predict") as check:
        for weights, bias, x, case in _PREDICT_CASES:
            weights, x = np.array(weights), np.array(x)
            z = float(weights @ x + bias)
            expected = _sign(z)
            got = check.call_unchanged(student_function, weights, bias, x, case=case)
            if isinstance(got, np.ndarray) and got.size == 1:
                got = got.item()
            if z == 0 and got in (0, -1):
                check.fail(
                    f"expected +1, got {got}: z = w·x + b is exactly 0 here, and the "
                    "boundary belongs to class +1.",
                    case=case,
                )
            check.expect(
                got,
                expected,
                what="the predicted class",
                case=case,
                mistakes=[
                    Mistake(z, "this is z = w·x + b itself: the class is its sign, −1 or +1."),
                    Mistake(
                        step(z),
                        "this is the 0/1 class of lesson 1: here the classes are −1 and +1.",
                    ),
                    Mistake(-expected, "the classes are swapped: class +1 is z ≥ 0."),
                ],
            )
            check.passed_case()
    return check.report


# (weights, bias, x, target, learning rate, what the case tests)
_UPDATE_CASES = [
    ([0.5, -0.5], 0.0, [1.0, 2.0], 1, 1.0, "a positive sample predicted −1"),
    ([0.5, 0.5], 0.2, [1.0, 2.0], -1, 1.0, "a negative sample predicted +1"),
    ([0.5, 0.5], 0.2, [1.0, 2.0], 1, 1.0, "a right prediction (nothing changes)"),
    ([1.0, -1.0], 0.0, [2.0, 2.0], -1, 0.5, "z = 0 exactly with target −1"),
    ([0.2, -0.1, 0.4], -0.3, [1.0, 1.0, -1.0], 1, 0.1, "3 features, lr 0.1"),
    ([0.0, 0.0, 0.0, 0.0], 0.0, [1.0, -2.0, 0.5, 3.0], -1, 0.25, "zero weights, target −1"),
]


def perceptron_update(student_function):
    """Task 2: one step of the ±1 rule, ``(new_weights, new_bias)``."""
    with Checker("Task 2 · perceptron_update") as check:
        for weights, bias, x, target, rate, case in _UPDATE_CASES:
            weights, x = np.array(weights), np.array(x)
            want_w, want_b = reference.perceptron_update(weights, bias, x, _zero_one(target), rate)
            wrong = _sign(weights @ x + bias) != target
            got = check.call_unchanged(student_function, weights, bias, x, target, rate, case=case)
            got_w, got_b = check.unpack(got, 2, what="the pair (new_weights, new_bias)", case=case)
            case_mistakes = []
            if not wrong:
                case_mistakes.append(
                    Mistake(
                        weights + rate * target * x,
                        "the weights changed although the prediction was right: only a "
                        "mistake moves the boundary.",
                    )
                )
            else:
                case_mistakes.append(
                    Mistake(
                        weights,
                        "the weights did not change, but the prediction was wrong.",
                    )
                )
            if weights @ x + bias == 0:
                case_mistakes.append(
                    Mistake(
                        weights + rate * target * x * (target == 1),
                        "z = w·x + b is exactly 0 here, which is class +1: a sample with "
                        "target −1 is a mistake.",
                    )
                )
            check.expect(
                got_w,
                want_w,
                what="new weights",
                case=case,
                show_expected=False,
                mistakes=[
                    *case_mistakes,
                    Mistake(weights - rate * target * x, "the weights moved the wrong way."),
                    Mistake(weights + target * x, "the learning rate η is missing."),
                    Mistake(
                        weights + 2 * rate * target * x,
                        "the step is twice too large: with ±1 labels the error y − ŷ is ±2, "
                        "so the rule uses y itself, not y − ŷ.",
                    ),
                ],
            )
            check.expect(
                got_b,
                want_b,
                what="new bias",
                case=case,
                show_expected=False,
                mistakes=[
                    Mistake(
                        bias,
                        "the bias did not change: it learns too, like a weight "
                        "whose input is always 1.",
                    ),
                    Mistake(bias - (want_b - bias), "the bias moved the wrong way."),
                    Mistake(
                        bias + 2 * (want_b - bias),
                        "the bias's step is twice too large: use y, not y − ŷ.",
                    ),
                ],
            )
            check.passed_case()
    return check.report


def _datasets():
    """Linearly separable data with labels −1/+1, and the learning rate to train with."""
    sets = [
        ("AND", *make_gate("AND"), 1.0),
        ("OR", *make_gate("OR"), 1.0),
        ("NAND", *make_gate("NAND"), 0.5),
        ("two blobs", *make_blobs(40, separation=3.0, spread=0.8, seed=0), 0.1),
    ]
    return [(name, X, 2.0 * y - 1.0, rate) for name, X, y, rate in sets]


def _reference_training(X, y, rate, epochs):
    """The 0/1 rule of lesson 1 on the 0/1 labels: the same updates as the ±1 rule."""
    weights, bias = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        mistakes = 0
        for x, target in zip(X, _zero_one(y), strict=True):
            new_weights, new_bias = reference.perceptron_update(weights, bias, x, target, rate)
            mistakes += new_bias != bias or not np.array_equal(new_weights, weights)
            weights, bias = new_weights, new_bias
        if mistakes == 0:
            break
    return weights, bias


def train_perceptron(student_function):
    """Task 3: the training loop, on the gates and two blobs (all linearly separable)."""
    with Checker("Task 3 · train_perceptron") as check:
        for name, X, y, rate in _datasets():
            case = f"{name}, lr {rate}"
            want_w, want_b = _reference_training(X, y, rate, 100)
            got = check.call_unchanged(student_function, X, y, rate, 100, case=case)
            got_w, got_b = check.unpack(got, 2, what="the pair (weights, bias)", case=case)
            got_w = check.expect_numbers(got_w, what="the weights", shape=(X.shape[1],), case=case)
            got_b = check.expect_numbers(got_b, what="the bias", shape=(), case=case)
            scores = X @ got_w + float(got_b)
            wrong = int(np.sum(np.where(scores >= 0, 1.0, -1.0) != y))
            if wrong:
                check.fail(
                    f"with your weights, {wrong} of {len(y)} samples are still "
                    "misclassified, although this data is linearly separable. Run "
                    "several epochs, and stop only after an epoch without a mistake.",
                    case=case,
                )
            for what, got_value, want in (
                ("final weights", got_w, want_w),
                ("final bias", got_b, want_b),
            ):
                message = compare(got_value, want, what=what, show_expected=False)
                if message:
                    check.fail(
                        message + "\n  → your weights do separate the data, but not "
                        "the way the perceptron rule does: start from zero weights and "
                        "bias, visit the samples in the order given (no shuffling) and "
                        "use the learning rate you are given.",
                        case=case,
                    )
            check.passed_case()
        check.summary = (
            "all 4 datasets are separated, with exactly the weights of the perceptron rule"
        )
    return check.report


def xor(student_function):
    """Task 4 (nothing to write): the student's training loop on XOR never succeeds."""
    with Checker("Task 4 · XOR") as check:
        X, y = make_gate("XOR")
        y = 2.0 * y - 1.0
        got = check.call(student_function, X, y, 1.0, 100, case="XOR")
        weights, bias = check.unpack(got, 2, what="the pair (weights, bias)", case="XOR")
        weights = check.expect_numbers(weights, what="the weights", shape=(2,), case="XOR")
        bias = check.expect_numbers(bias, what="the bias", shape=(), case="XOR")
        correct = int(np.sum(np.where(X @ weights + float(bias) >= 0, 1.0, -1.0) == y))
        if correct == 4:
            check.fail(
                "all 4 XOR samples are right, which no straight line can do: does "
                "predict() really compute the sign of w·x + b?"
            )
        check.summary = (
            f"after 100 epochs your perceptron gets {correct} of the 4 XOR samples "
            "right: no line separates XOR, so the rule never settles"
        )
    return check.report


def pocket(experiment, claims):
    """Stretch (optional): the pocket algorithm on noisy moons, claims re-measured."""
    return check_claims("Stretch · the pocket algorithm", experiment, claims)
