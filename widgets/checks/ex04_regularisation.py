"""Checks for exercise 4, classification with regularisation (NumPy).

Lesson 4 shows inverted dropout (``numpy_nn.Dropout``) and weight decay (L2, inside
``Optimizer.step``); the exercise asks for regularisers the lesson did not show:
**Gaussian dropout** (multiplicative noise of mean 1, Srivastava et al. 2014, §10) and an
**L1 penalty** in the SGD step. Their expected values come from the independent formulas
below. The experiment of task 4 trains lesson 4's network (:mod:`widgets.numpy_nn`).
"""

from __future__ import annotations

import math

import numpy as np

from widgets import numpy_nn as reference
from widgets.checks import Checker, Hints, Mistake, check_claims
from widgets.toy_data import make_moons

hint = Hints(
    {
        1: [
            "Dropout multiplies each unit by a random factor whose mean is 1. Gaussian dropout "
            "draws that factor from a normal distribution instead of {0, 1/(1 − p)}, with the "
            "same variance p / (1 − p).",
            "Draw one standard-normal number per entry from the `rng` argument (never from "
            "np.random), turn it into a factor of mean 1 and standard deviation σ, and return "
            "the product together with the factors. In evaluation nothing is random.",
            "σ = √(p / (1 − p));  noise = 1 + σ · ε with ε ~ N(0, 1) of x's shape;  "
            "out = x ⊙ noise. Evaluation: out = x, noise = 1.",
        ],
        2: [
            "The forward pass multiplied x by the noise, entry by entry. What is the derivative "
            "of noise · x with respect to x?",
            "∂L/∂x = ∂L/∂out ⊙ ∂out/∂x, and ∂out/∂x is diagonal.",
        ],
        3: [
            "An L1 penalty λ·Σ|w| adds its gradient to each parameter's gradient before the "
            "step. What is the derivative of |w|?",
            "d|w|/dw is the sign of w (+1, −1, and 0 at exactly 0). Update the arrays the list "
            "holds, in place: assigning to a name only rebinds it.",
            "For each pair: w ← w − η (g + λ · sign(w)), written into w itself.",
        ],
        4: [
            "Start with weight_decay alone: try 1e-3, 1e-2 and 1e-1 and watch the validation "
            "loss in the check's message.",
            "Too little regularisation leaves the overfit; too much underfits (the training "
            "accuracy drops as well). Dropout (0.2 to 0.5) helps the accuracy, but on this tiny "
            "problem it needs a little weight decay alongside to halve the validation loss.",
        ],
    }
)


# --------------------------------------------------------------------------- Gaussian dropout
def _gaussian_noise(shape, p: float, seed: int) -> np.ndarray:
    sigma = math.sqrt(p / (1 - p))
    return 1.0 + sigma * np.random.default_rng(seed).standard_normal(shape)


def gaussian_dropout_forward(student_function):
    """Task 1: Gaussian dropout, ``(out, noise)``."""
    with Checker("Task 1 · gaussian_dropout_forward") as check:
        x = np.random.default_rng(7).uniform(0.5, 2.0, size=(200, 50))
        for p in (0.2, 0.5):
            case = f"training, p = {p}, 200 × 50 inputs"
            expected_noise = _gaussian_noise(x.shape, p, seed=1)
            got = check.call_unchanged(
                student_function, x, p, np.random.default_rng(1), True, case=case
            )
            out, noise = check.unpack(got, 2, what="the pair (out, noise)", case=case)
            out = check.expect_numbers(out, what="out", shape=x.shape, case=case)
            noise = check.expect_numbers(noise, what="noise", shape=x.shape, case=case)
            if set(np.unique(noise)) <= {0.0, 1 / (1 - p)}:
                check.fail(
                    "the noise takes only the values 0 and 1/(1 − p): that is inverted "
                    "dropout, from the lesson. Gaussian dropout draws normal noise.",
                    case=case,
                )
            sigma = math.sqrt(p / (1 - p))
            if abs(noise.mean() - 1) > 0.05:
                check.fail(
                    f"the noise has mean {noise.mean():.3f}; it must be 1, so that a unit's "
                    "expected value is unchanged and evaluation needs no correction.",
                    case=case,
                )
            if abs(noise.std() - sigma) > 0.05 * sigma:
                check.fail(
                    f"the noise has standard deviation {noise.std():.3f}; expected about "
                    f"{sigma:.3f} = √(p / (1 − p)) for p = {p}.",
                    case=case,
                )
            check.expect(
                noise,
                expected_noise,
                what="the noise",
                case=case,
                show_expected=False,
                mistakes=[
                    Mistake(
                        1 + sigma * np.random.default_rng(1).random(x.shape),
                        "the draws are uniform: use the standard normal distribution.",
                    ),
                    Mistake(
                        1 + sigma**2 * np.random.default_rng(1).standard_normal(x.shape),
                        "the noise's spread is the variance p / (1 − p); the standard "
                        "deviation is its square root.",
                    ),
                ],
            )
            check.expect(
                out,
                x * expected_noise,
                what="out (x multiplied by the noise)",
                case=case,
                show_expected=False,
            )
            again = check.call(student_function, x, p, np.random.default_rng(1), True, case=case)
            if not np.array_equal(np.asarray(again[0]), np.asarray(out)):
                check.fail(
                    "two calls with identically seeded generators gave different noise: "
                    "draw the random numbers from the `rng` argument, not from np.random.",
                    case=case,
                )
            check.passed_case()
        case = "evaluation (training=False), p = 0.5"
        got = check.call_unchanged(
            student_function, x, 0.5, np.random.default_rng(1), False, case=case
        )
        out, noise = check.unpack(got, 2, what="the pair (out, noise)", case=case)
        check.expect(out, x, what="out in evaluation", case=case, show_expected=False)
        check.expect(noise, np.ones_like(x), what="the noise in evaluation (all ones)", case=case)
        check.passed_case()
    return check.report


def gaussian_dropout_backward(student_function):
    """Task 2: the gradient through Gaussian dropout."""
    with Checker("Task 2 · gaussian_dropout_backward") as check:
        for p, seed in ((0.5, 3), (0.2, 4)):
            case = f"p = {p}"
            noise = _gaussian_noise((6, 5), p, seed)
            grad_output = np.random.default_rng(seed + 10).normal(size=(6, 5))
            got = check.call_unchanged(student_function, grad_output, noise, case=case)
            check.expect(
                got,
                grad_output * noise,
                what="the gradient",
                case=case,
                show_expected=False,
                mistakes=[
                    Mistake(
                        grad_output,
                        "the gradient passed through unchanged: the forward pass scaled each "
                        "unit by its noise, so its gradient is scaled the same way.",
                    ),
                    Mistake(
                        grad_output / noise,
                        "divided by the noise: the derivative of noise · x is the noise.",
                    ),
                ],
            )
            check.passed_case()
    return check.report


# --------------------------------------------------------------------------- L1 penalty
def sgd_step(student_function):
    """Task 3: one SGD step with an L1 penalty, in place."""
    with Checker("Task 3 · sgd_step") as check:
        rng = np.random.default_rng(5)
        for rate, l1 in ((0.1, 0.0), (0.1, 0.01), (0.5, 0.2)):
            case = f"lr {rate}, l1 {l1}"
            params = [rng.normal(size=(3, 4)), rng.normal(size=4)]
            params[1][0] = 0.0  # sign(0) = 0: an exact zero is not pushed either way
            grads = [rng.normal(size=(3, 4)), rng.normal(size=4)]
            before = [p.copy() for p in params]
            grads_before = [g.copy() for g in grads]
            expected = [
                p - rate * (g + l1 * np.sign(p)) for p, g in zip(params, grads, strict=True)
            ]
            result = check.call(student_function, params, grads, rate, l1, case=case)
            if all(np.array_equal(a, b) for a, b in zip(params, before, strict=True)):
                returned = "; it returned new arrays instead" if result is not None else ""
                check.fail(
                    "the parameters in the list did not change" + returned + ": the model "
                    "holds these very arrays, so write the update into them (in place).",
                    case=case,
                )
            if not all(np.array_equal(a, b) for a, b in zip(grads, grads_before, strict=True)):
                check.fail(
                    "your function changed the gradients: leave them as they are, "
                    "add the penalty's gradient into the update only.",
                    case=case,
                )
            for index, (got, want, p0, g) in enumerate(
                zip(params, expected, before, grads, strict=True)
            ):
                check.expect(
                    got,
                    want,
                    what=f"parameter {index} after the step",
                    case=case,
                    show_expected=False,
                    mistakes=[
                        Mistake(
                            p0 - rate * (g - l1 * np.sign(p0)),
                            "the penalty has the wrong sign: it must pull weights towards 0.",
                        ),
                        Mistake(
                            p0 - rate * g - l1 * np.sign(p0),
                            "the penalty's gradient must be scaled by the learning rate too.",
                        ),
                        Mistake(
                            p0 - rate * (g + l1 * p0),
                            "this is L2 weight decay (the lesson's): the gradient of λ|w| is "
                            "λ·sign(w), not λ·w.",
                        ),
                        Mistake(
                            p0 - rate * (g + l1 * np.where(p0 >= 0, 1.0, -1.0)),
                            "an exact zero was pushed away from 0: sign(0) is 0.",
                        ),
                    ],
                )
            check.passed_case()
    return check.report


# --------------------------------------------------------------------------- the experiment
def moons():
    """The task's data: 60 noisy training points and 1,000 validation points."""
    X, y = make_moons(60, noise=0.35, seed=0)
    X_val, y_val = make_moons(1000, noise=0.35, seed=1)
    return X.astype(np.float32), y, X_val.astype(np.float32), y_val


def train_moons(weight_decay: float = 0.0, dropout: float = 0.0, epochs: int = 500):
    """Lesson 4's network on 60 noisy moon points, trained long enough to overfit.

    Returns the model and ``(train accuracy, validation loss, validation accuracy)``.
    """
    X, y, X_val, y_val = moons()
    model = reference.mlp([2, 64, 64, 2], rng=np.random.default_rng(0), dropout=dropout)
    optimizer = reference.Adam(
        model.parameters(), model.gradients(), lr=1e-2, weight_decay=weight_decay
    )
    loss_fn = reference.SoftmaxCrossEntropy()
    reference.fit(
        model,
        loss_fn,
        optimizer,
        X,
        y,
        epochs=epochs,
        batch_size=len(X),
        rng=np.random.default_rng(0),
    )
    train_accuracy = float(np.mean(model.predict(X) == y))
    val_loss, val_accuracy = reference.evaluate(model, loss_fn, X_val, y_val)
    return model, (train_accuracy, float(val_loss), float(val_accuracy))


def regularisation(student_function):
    """Task 4: the student's settings cure the overfitting of 60 moon points."""
    with Checker("Task 4 · regularisation") as check:
        settings = check.call(student_function)
        if not isinstance(settings, dict) or set(settings) - {"weight_decay", "dropout"}:
            check.fail(
                "return a dict with the keys 'weight_decay' and 'dropout', e.g. "
                "{'weight_decay': 1e-3, 'dropout': 0.0}."
            )
        decay = float(settings.get("weight_decay", 0.0))
        dropout = float(settings.get("dropout", 0.0))
        if not (0 <= decay < 1 and 0 <= dropout < 1):
            check.fail(f"weight_decay and dropout must lie in [0, 1); got {decay} and {dropout}.")
        _, (base_train, base_loss, base_accuracy) = train_moons()
        _, (train_accuracy, val_loss, val_accuracy) = train_moons(decay, dropout)
        table = (
            f"without regularisation: training accuracy {base_train:.0%}, validation "
            f"loss {base_loss:.2f}, validation accuracy {base_accuracy:.1%}\n"
            f"with weight_decay={decay:g}, dropout={dropout:g}: training accuracy "
            f"{train_accuracy:.0%}, validation loss {val_loss:.2f}, validation "
            f"accuracy {val_accuracy:.1%}"
        )
        if decay == 0 and dropout == 0:
            check.fail("no regularisation chosen: both are 0.\n" + table)
        if val_accuracy < base_accuracy - 0.005 or val_loss > 0.5 * base_loss:
            if train_accuracy < 0.85:
                advice = (
                    "the training accuracy fell too: this is too much regularisation, "
                    "the model now underfits. Try a smaller value."
                )
            else:
                advice = (
                    "the model still overfits: the validation loss must at least "
                    "halve. Try a larger value."
                )
            check.fail(table + "\n→ " + advice)
        check.summary = (
            "the validation loss falls from "
            f"{base_loss:.2f} to {val_loss:.2f} and the validation accuracy "
            f"rises from {base_accuracy:.1%} to {val_accuracy:.1%}"
        )
    return check.report


def ablation(experiment, claims):
    """Stretch (optional): dropout against weight decay on the overfit, claims re-measured."""
    return check_claims("Stretch · dropout vs weight decay", experiment, claims)
