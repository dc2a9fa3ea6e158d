"""Checks for exercise 4, classification with regularisation (NumPy).

The reference is :mod:`widgets.numpy_nn` (lesson 4): inverted dropout (``Dropout``),
weight decay as ``torch.optim`` defines it (``SGD(weight_decay=...)`` adds
``weight_decay * param`` to each gradient), and the networks trained with ``fit``.
"""

from __future__ import annotations

import numpy as np

from widgets import numpy_nn as reference
from widgets.checks import Checker, Hints, Mistake
from widgets.toy_data import make_moons

hint = Hints(
    {
        1: [
            "Draw one uniform number per entry with rng.random(x.shape); a unit is kept where "
            "that number is >= p, so it is dropped with probability p.",
            "Inverted dropout scales the kept units by 1 / (1 − p) during training, so the "
            "expected value of each unit is unchanged and evaluation needs no correction.",
            "mask = (rng.random(x.shape) >= p) / (1 − p); return x * mask, mask. In evaluation "
            "(training=False) return x unchanged and a mask of ones.",
        ],
        2: [
            "The forward pass multiplied x by the mask, entry by entry. What is the derivative "
            "of mask · x with respect to x?",
            "return grad_output * mask: dropped units pass no gradient, kept ones pass it scaled.",
        ],
        3: [
            "Weight decay adds weight_decay * param to each gradient: the gradient of the L2 "
            "penalty (weight_decay / 2) · ‖param‖².",
            "Update in place, param -= learning_rate * (grad + weight_decay * param), for each "
            "pair; `param -= ...` changes the array the model holds, `param = param - ...` "
            "only rebinds a local name.",
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


# --------------------------------------------------------------------------- dropout
def _reference_scale(p: float) -> float:
    """What lesson 4's Dropout multiplies a kept unit by (read from the layer itself)."""
    layer = reference.Dropout(p, rng=np.random.default_rng(0))
    out = layer.forward(np.ones((64, 64)))
    return float(out[out != 0][0])


def dropout_forward(student_function):
    """Task 1: inverted dropout, ``(out, mask)``."""
    with Checker("Task 1 · dropout_forward") as check:
        x = np.random.default_rng(7).uniform(0.5, 2.0, size=(200, 50))
        for p in (0.3, 0.5):
            case = f"training, p = {p}, 200 × 50 inputs"
            scale = _reference_scale(p)
            got = check.call_unchanged(
                student_function, x, p, np.random.default_rng(1), True, case=case
            )
            out, mask = check.unpack(got, 2, what="the pair (out, mask)", case=case)
            out = np.asarray(out, dtype=float)
            if out.shape != x.shape:
                check.fail(
                    f"out should have the input's shape {x.shape}, got {out.shape}.", case=case
                )
            kept = out != 0
            dropped = 1 - kept.mean()
            if abs(dropped - (1 - p)) < 0.03 and abs(p - 0.5) > 0.05:
                check.fail(
                    f"{dropped:.0%} of the units were dropped, about 1 − p: p is the "
                    "probability of *dropping* a unit, so keep it where "
                    "rng.random(...) >= p.",
                    case=case,
                )
            if abs(dropped - p) > 0.03:
                check.fail(
                    f"{dropped:.1%} of the units were dropped; about {p:.0%} expected (p = {p}).",
                    case=case,
                )
            ratios = out[kept] / x[kept]
            for wrong, why in (
                (
                    1.0,
                    "the kept units are not scaled: multiply them by "
                    "1 / (1 − p), or evaluation would see larger "
                    "activations than training did.",
                ),
                (
                    1 - p,
                    "the kept units were multiplied by (1 − p); inverted dropout divides by it.",
                ),
            ):
                if np.allclose(ratios, wrong) and not np.isclose(wrong, scale):
                    check.fail(why, case=case)
            check.expect(
                ratios, np.full(ratios.shape, scale), what="out / x for the kept units", case=case
            )
            check.expect(
                out,
                x * np.asarray(mask, dtype=float),
                what="out compared with x * mask (the mask must be what x was multiplied by)",
                case=case,
            )
            again = check.call(student_function, x, p, np.random.default_rng(1), True, case=case)
            if not np.array_equal(np.asarray(again[0]), out):
                check.fail(
                    "two calls with identically seeded generators dropped different "
                    "units: draw the random numbers from the `rng` argument "
                    "(rng.random(x.shape)), not from np.random.",
                    case=case,
                )
            check.passed_case()
        case = "evaluation (training=False), p = 0.5"
        got = check.call_unchanged(
            student_function, x, 0.5, np.random.default_rng(1), False, case=case
        )
        out, _ = check.unpack(got, 2, what="the pair (out, mask)", case=case)
        check.expect(
            out,
            x,
            what="out in evaluation",
            case=case,
            mistakes=[
                Mistake(
                    x * 0.5,
                    "in evaluation inverted dropout is the identity: the scaling "
                    "already happened during training.",
                ),
            ],
        )
        check.passed_case()
    return check.report


def dropout_backward(student_function):
    """Task 2: the gradient through dropout, ``grad_output * mask``."""
    with Checker("Task 2 · dropout_backward") as check:
        for p, seed in ((0.5, 3), (0.2, 4)):
            case = f"p = {p}"
            layer = reference.Dropout(p, rng=np.random.default_rng(seed))
            x = np.ones((6, 5))
            mask = layer.forward(x).copy()  # x is all ones, so the output is the mask
            grad_output = np.random.default_rng(seed).normal(size=(6, 5))
            expected = layer.backward(grad_output).copy()
            got = check.call_unchanged(student_function, grad_output, mask, case=case)
            check.expect(
                got,
                expected,
                what="the gradient",
                case=case,
                mistakes=[
                    Mistake(
                        grad_output,
                        "every unit passed its gradient: dropped units "
                        "contributed nothing, so their gradient is 0 — multiply by the mask.",
                    ),
                    Mistake(
                        grad_output * (mask != 0),
                        "the kept units' gradient must be scaled "
                        "like their values were: multiply by the mask itself, not by a 0/1 "
                        "version of it.",
                    ),
                ],
            )
            check.passed_case()
    return check.report


# --------------------------------------------------------------------------- weight decay
def sgd_step(student_function):
    """Task 3: one SGD step with weight decay, in place, like ``numpy_nn.SGD``."""
    with Checker("Task 3 · sgd_step") as check:
        rng = np.random.default_rng(5)
        for rate, decay in ((0.1, 0.0), (0.1, 0.01), (0.5, 0.2)):
            case = f"learning rate {rate}, weight decay {decay}"
            params = [rng.normal(size=(3, 4)), rng.normal(size=4)]
            grads = [rng.normal(size=(3, 4)), rng.normal(size=4)]
            before = [p.copy() for p in params]
            grads_before = [g.copy() for g in grads]
            expected = [p.copy() for p in params]
            reference.SGD(expected, [g.copy() for g in grads], lr=rate, weight_decay=decay).step()
            check.call(student_function, params, grads, rate, decay, case=case)
            if all(np.array_equal(a, b) for a, b in zip(params, before, strict=True)):
                check.fail(
                    "the parameters did not change: update the arrays in the list in "
                    "place (param -= ...), do not build new ones.",
                    case=case,
                )
            if not all(np.array_equal(a, b) for a, b in zip(grads, grads_before, strict=True)):
                check.fail(
                    "your function changed the gradients: leave them as they are, "
                    "add the decay term into the update only.",
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
                    mistakes=[
                        Mistake(
                            p0 - rate * (g - decay * p0),
                            "the decay has the wrong sign: it "
                            "must pull weights towards 0, so add weight_decay * param to "
                            "the gradient.",
                        ),
                        Mistake(
                            p0 - rate * g - decay * p0,
                            "the decay term must be scaled by "
                            "the learning rate too: param -= lr * (grad + decay * param).",
                        ),
                        Mistake(
                            p0 - rate * (g + 2 * decay * p0),
                            "the factor 2: torch's "
                            "weight_decay is the gradient of (decay / 2) · ‖param‖², so the "
                            "term is decay * param.",
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
