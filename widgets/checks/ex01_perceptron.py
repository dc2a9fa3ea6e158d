"""Checks for exercise 1, the perceptron from scratch.

Expected values come from :mod:`widgets.perceptron` (the rule lesson 1 teaches):
``ŷ = step(w·x + b)`` with ``step(0) = 1``, and ``Δw = η (y − ŷ) x``, ``Δb = η (y − ŷ)``.
"""

from __future__ import annotations

import numpy as np

from widgets import perceptron as reference
from widgets.activations import step
from widgets.checks import Checker, Hints, Mistake, compare
from widgets.toy_data import make_blobs, make_gate

hint = Hints(
    {
        1: [
            "z = w·x + b is a single number: np.dot(weights, x) + bias (or weights @ x + bias).",
            "The class is 1 when z >= 0 and 0 otherwise. Watch the boundary z = 0 exactly: it "
            "belongs to class 1.",
            "return 1 if weights @ x + bias >= 0 else 0",
        ],
        2: [
            "Use your predict() to get ŷ, then the error y − ŷ: it is 0 (right), +1 or −1 (wrong).",
            "Δw = η (y − ŷ) x and Δb = η (y − ŷ). When the prediction is right both are zero.",
            "Return new arrays: `weights + learning_rate * error * x`, not `weights += ...`, "
            "which would change the caller's array.",
        ],
        3: [
            "Start from weights = np.zeros(n_features) and bias = 0.0, and visit the samples in "
            "the order given: for x, target in zip(X, y).",
            "One epoch is one pass over all samples, calling perceptron_update on each. Count the "
            "samples predicted wrongly during the epoch.",
            "Stop after an epoch without a mistake (the data is separated), or after `epochs` "
            "epochs, whichever comes first; return (weights, bias).",
        ],
    }
)

# (weights, bias, x, what the case tests)
_PREDICT_CASES = [
    ([1.0, 1.0], -1.5, [1.0, 1.0], "z > 0"),
    ([1.0, 1.0], -1.5, [0.0, 1.0], "z < 0"),
    ([1.0, -1.0], 0.0, [2.0, 2.0], "z = 0 exactly (the boundary belongs to class 1)"),
    ([0.5, -0.25, 2.0], 0.1, [-1.0, 2.0, 0.5], "3 features"),
    ([0.0, 0.0, 0.0, 0.0, 0.0], 0.0, [3.0, -1.0, 2.0, 0.5, 1.0], "all-zero weights: z = 0"),
    ([-2.0, 0.5, 1.0, 0.25, -1.0], -0.2, [1.0, 1.0, 1.0, 1.0, 1.0], "5 features, z < 0"),
]


def predict(student_function):
    """Task 1: the perceptron's class for one sample."""
    with Checker("Task 1 · predict") as check:
        for weights, bias, x, case in _PREDICT_CASES:
            weights, x = np.array(weights), np.array(x)
            z = float(weights @ x + bias)
            expected = float(step(z))
            got = check.call_unchanged(student_function, weights, bias, x, case=case)
            if isinstance(got, np.ndarray) and got.size == 1:
                got = got.item()
            if z == 0 and got == 0:
                check.fail(
                    "expected 1, got 0: z = w·x + b is exactly 0 here, and the "
                    "perceptron's step function gives 1 at 0. Use >= 0, not > 0.",
                    case=case,
                )
            check.expect(
                got,
                expected,
                what="the predicted class",
                case=case,
                mistakes=[
                    Mistake(z, "this is z = w·x + b itself: the class is step(z), 0 or 1."),
                    Mistake(1.0 - expected, "the classes are swapped: class 1 is z >= 0."),
                ],
            )
            check.passed_case()
    return check.report


# (weights, bias, x, target, learning rate, what the case tests)
_UPDATE_CASES = [
    ([0.5, -0.5], 0.0, [1.0, 2.0], 1, 1.0, "a positive sample predicted 0"),
    ([0.5, 0.5], 0.2, [1.0, 2.0], 0, 1.0, "a negative sample predicted 1"),
    ([0.5, 0.5], 0.2, [1.0, 2.0], 1, 1.0, "a right prediction (nothing changes)"),
    ([1.0, -1.0], 0.0, [2.0, 2.0], 0, 0.5, "z = 0 exactly with target 0"),
    ([0.2, -0.1, 0.4], -0.3, [1.0, 1.0, -1.0], 1, 0.1, "3 features, learning rate 0.1"),
    ([0.0, 0.0, 0.0, 0.0], 0.0, [1.0, -2.0, 0.5, 3.0], 0, 0.25, "zero weights, target 0"),
]


def perceptron_update(student_function):
    """Task 2: one step of the learning rule, ``(new_weights, new_bias)``."""
    with Checker("Task 2 · perceptron_update") as check:
        for weights, bias, x, target, rate, case in _UPDATE_CASES:
            weights, x = np.array(weights), np.array(x)
            want_w, want_b = reference.perceptron_update(weights, bias, x, target, rate)
            prediction = float(step(weights @ x + bias))
            error = target - prediction
            got = check.call_unchanged(student_function, weights, bias, x, target, rate, case=case)
            got_w, got_b = check.unpack(got, 2, what="the pair (new_weights, new_bias)", case=case)
            # Mistakes that only this kind of case can reveal (elsewhere they coincide with
            # innocent values and would name the wrong cause).
            case_mistakes = []
            if error == 0:
                case_mistakes.append(
                    Mistake(
                        weights + rate * target * x,
                        "the weights changed although the prediction was right: multiply by the "
                        "error (y − ŷ), which is 0 then.",
                    )
                )
            else:
                case_mistakes.append(
                    Mistake(
                        weights,
                        f"the weights did not change, but the prediction ŷ = {prediction:g} was "
                        f"wrong (y = {target}): Δw = η (y − ŷ) x, with the error y − ŷ, not y "
                        "alone.",
                    )
                )
            if weights @ x + bias == 0:
                wrong_threshold = target - float(weights @ x + bias > 0)
                case_mistakes.append(
                    Mistake(
                        weights + rate * wrong_threshold * x,
                        "z = w·x + b is exactly 0 here, and step(0) = 1: predict with >= 0, "
                        "not > 0.",
                    )
                )
            check.expect(
                got_w,
                want_w,
                what="new weights",
                case=case,
                mistakes=[
                    Mistake(
                        weights - rate * error * x,
                        "the weights moved the wrong way: the "
                        "change is η (y − ŷ) x, target minus prediction.",
                    ),
                    Mistake(weights + error * x, "the learning rate η is missing from Δw."),
                    *case_mistakes,
                ],
            )
            check.expect(
                got_b,
                want_b,
                what="new bias",
                case=case,
                mistakes=[
                    Mistake(bias, "the bias did not change: it learns too, Δb = η (y − ŷ)."),
                    Mistake(bias - rate * error, "the bias moved the wrong way: Δb = η (y − ŷ)."),
                    Mistake(
                        bias + rate * error * x.sum(),
                        "Δb has no factor x: the bias's input is always 1, so Δb = η (y − ŷ).",
                    ),
                ],
            )
            check.passed_case()
    return check.report


def _datasets():
    return [
        ("AND", *make_gate("AND"), 1.0),
        ("OR", *make_gate("OR"), 1.0),
        ("NAND", *make_gate("NAND"), 0.5),
        ("two blobs", *make_blobs(40, separation=3.0, spread=0.8, seed=0), 0.1),
    ]


def train_perceptron(student_function):
    """Task 3: the training loop, on the gates and two blobs (all linearly separable)."""
    with Checker("Task 3 · train_perceptron") as check:
        for name, X, y, rate in _datasets():
            case = f"{name}, learning rate {rate}"
            model = reference.Perceptron(X, y, lr=rate, max_epochs=100)
            model.train()
            got = check.call_unchanged(student_function, X, y, rate, 100, case=case)
            got_w, got_b = check.unpack(got, 2, what="the pair (weights, bias)", case=case)
            shape_problem = _shape_message(got_w, X.shape[1])
            if shape_problem:
                check.fail(shape_problem, case=case)
            wrong = int(np.sum(step(X @ np.asarray(got_w, float) + float(got_b)) != y))
            if wrong:
                check.fail(
                    f"with your weights, {wrong} of {len(y)} samples are still "
                    "misclassified, although this data is linearly separable. Run "
                    "several epochs, and stop only after an epoch without a mistake.",
                    case=case,
                )
            for what, got_value, want in (
                ("final weights", got_w, model.weights),
                ("final bias", got_b, model.bias),
            ):
                message = compare(got_value, want, what=what)
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


def _shape_message(weights, n_features: int) -> str | None:
    shape = np.shape(weights)
    if shape != (n_features,):
        return f"the weights should have shape ({n_features},), one per feature, got {shape}."
    return None


def xor(student_function):
    """Task 4 (nothing to write): the student's training loop on XOR never succeeds."""
    with Checker("Task 4 · XOR") as check:
        X, y = make_gate("XOR")
        got = check.call(student_function, X, y, 1.0, 100, case="XOR")
        weights, bias = check.unpack(got, 2, what="the pair (weights, bias)", case="XOR")
        shape_problem = _shape_message(weights, 2)
        if shape_problem:
            check.fail(shape_problem, case="XOR")
        correct = int(np.sum(step(X @ np.asarray(weights, float) + float(bias)) == y))
        if correct == 4:
            check.fail(
                "all 4 XOR samples are right, which no straight line can do: does "
                "predict() really compute step(w·x + b)?"
            )
        check.summary = (
            f"after 100 epochs your perceptron gets {correct} of the 4 XOR samples "
            "right: no line separates XOR, so the rule never settles"
        )
    return check.report
