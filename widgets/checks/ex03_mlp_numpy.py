"""Checks for exercise 3, a multi-layer network in NumPy (whole batches, matrix form).

Conventions and expected values come from :mod:`widgets.mlp_by_hand` (lesson 3): one
example per row, ``W`` of shape ``(n_out, n_in)``, ``Z = A Wᵀ + b``, losses averaged
over the batch.
"""

from __future__ import annotations

import numpy as np

from widgets import mlp_by_hand as reference
from widgets.checks import Checker, Hints, Mistake
from widgets.toy_data import make_spirals

hint = Hints(
    {
        1: [
            "A_prev has one example per row, (n_examples, n_in); W is (n_out, n_in). Which "
            "product gives (n_examples, n_out)?",
            "Z = A_prev @ W.T + b; NumPy broadcasts b, shape (n_out,), over the rows.",
        ],
        2: [
            "Each gradient has the shape of what it differentiates: dW like W (n_out, n_in), "
            "db like b (n_out,), dA_prev like A_prev (n_examples, n_in).",
            "The bias is added to every row, so its gradient sums delta over the rows: "
            "delta.sum(axis=0).",
            "dW = delta.T @ A_prev (a sum over examples of δ aᵀ), dA_prev = delta @ W.",
        ],
        3: [
            "Subtract each row's maximum from the logits first: softmax does not change, and "
            "exp() can no longer overflow.",
            "log-probabilities = shifted − log(sum(exp(shifted), axis=1, keepdims=True)); the loss "
            "is minus the mean, over examples, of the log-probability of the true class: "
            "log_p[np.arange(n), labels].",
            "The gradient is (softmax − one_hot(labels)) / n: copy the probabilities, subtract 1 "
            "at [np.arange(n), labels], divide by n.",
        ],
        4: [
            "Initialise W1 = rng.normal(0, 1/sqrt(n_in), (n_hidden, n_in)), W2 likewise with "
            "n_hidden inputs, biases at zero. Then, each epoch: forward, loss, backward, update.",
            "Forward: Z1 = dense_forward(X, W1, b1); A1 = np.tanh(Z1); logits = "
            "dense_forward(A1, W2, b2). Backward: start from softmax_cross_entropy's gradient.",
            "δ2 is the loss gradient; dW2, db2, dA1 = dense_backward(δ2, A1, W2); "
            "δ1 = dA1 * (1 − A1**2) (tanh's derivative); then dense_backward(δ1, X, W1). "
            "Update with W -= learning_rate * dW (minus: down the slope).",
        ],
    }
)

# (examples, inputs, outputs, seed, what the case tests); one square W to catch a
# transpose that a shape error would not reveal.
_LAYER_CASES = [
    (5, 3, 4, 0, "5 examples, 3 inputs, 4 outputs"),
    (1, 4, 2, 1, "a single example"),
    (6, 3, 3, 2, "square W (3 × 3)"),
    (8, 10, 1, 3, "one output unit"),
]


def _layer_case(n, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(n, n_in)),
        rng.normal(size=(n_out, n_in)),
        rng.normal(size=n_out),
        rng.normal(size=(n, n_out)),
    )


def dense_forward(student_function):
    """Task 1: ``Z = A_prev Wᵀ + b`` for a batch."""
    with Checker("Task 1 · dense_forward") as check:
        for n, n_in, n_out, seed, case in _LAYER_CASES:
            A, W, b, _ = _layer_case(n, n_in, n_out, seed)
            layer = reference.Layer(W.copy(), b.copy(), "identity")
            expected = reference.mlp_forward([layer], A).pre_activations[0]
            got = check.call_unchanged(student_function, A, W, b, case=case)
            check.expect(
                got,
                expected,
                what="Z",
                case=case,
                mistakes=[
                    Mistake(A @ W.T, "the bias b is missing: Z = A_prev @ W.T + b."),
                    Mistake(
                        lambda A=A, W=W, b=b: A @ W + b,
                        "W is (n_out, n_in), so the product needs W.T: Z = A_prev @ W.T + b.",
                    ),
                ],
            )
            check.passed_case()
    return check.report


def dense_backward(student_function):
    """Task 2: ``(dW, db, dA_prev)`` from ``delta = dL/dZ``."""
    with Checker("Task 2 · dense_backward") as check:
        for n, n_in, n_out, seed, case in _LAYER_CASES:
            A, W, b, delta = _layer_case(n, n_in, n_out, seed)
            layer = reference.Layer(W.copy(), b.copy(), "identity")
            cache = reference.mlp_forward([layer], A)
            gradients = reference.mlp_backward([layer], cache, delta)[0]
            got = check.call_unchanged(student_function, delta, A, W, case=case)
            dW, db, dA = check.unpack(got, 3, what="the tuple (dW, db, dA_prev)", case=case)
            check.expect(
                dW,
                gradients.W,
                what="dW",
                case=case,
                mistakes=[
                    Mistake(
                        A.T @ delta,
                        "this is the transpose: dW has W's shape (n_out, n_in), "
                        "so dW = delta.T @ A_prev.",
                    ),
                    Mistake(
                        gradients.W / n,
                        "divided by the number of examples: the loss's "
                        "gradient already carries the 1/n, so dW is a plain sum.",
                    ),
                ],
            )
            check.expect(
                db,
                gradients.b,
                what="db",
                case=case,
                mistakes=[
                    Mistake(
                        delta.mean(axis=0),
                        "this is the mean over examples; the bias gradient "
                        "is the sum: delta.sum(axis=0).",
                    ),
                    Mistake(
                        delta.sum(axis=1),
                        "summed over the wrong axis: sum over the examples "
                        "(axis=0), keeping one value per output unit.",
                    ),
                ],
            )
            expected_dA = delta @ W
            transposed = (
                [Mistake(delta @ W.T, "W must not be transposed here: dA_prev = delta @ W.")]
                if n_in == n_out
                else []
            )
            check.expect(dA, expected_dA, what="dA_prev", case=case, mistakes=transposed)
            check.passed_case()
    return check.report


# (logits, labels, what the case tests)
def _loss_cases():
    rng = np.random.default_rng(3)
    return [
        (rng.normal(size=(4, 3)), np.array([0, 2, 1, 2]), "4 examples, 3 classes"),
        (rng.normal(size=(1, 10)), np.array([7]), "a single example, 10 classes"),
        (
            np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 1000.0]]),
            np.array([0, 2]),
            "logits of ±1000 (exp overflows unless shifted)",
        ),
        (np.zeros((5, 4)), np.array([0, 1, 2, 3, 0]), "all logits 0: loss = ln 4"),
    ]


def softmax_cross_entropy(student_function):
    """Task 3: mean cross-entropy of softmax(logits) and its gradient."""
    with Checker("Task 3 · softmax_cross_entropy") as check:
        for logits, labels, case in _loss_cases():
            loss, gradient = reference.softmax_cross_entropy(logits, labels)
            n = len(labels)
            got = check.call_unchanged(student_function, logits, labels, case=case)
            got_loss, got_gradient = check.unpack(
                got, 2, what="the pair (loss, gradient)", case=case
            )
            check.expect(
                got_loss,
                loss,
                what="loss",
                case=case,
                mistakes=[
                    Mistake(loss * n, "this is the sum over examples; the loss is their mean."),
                    Mistake(-loss, "the sign: the loss is minus the log-probability (positive)."),
                ],
            )
            check.expect(
                got_gradient,
                gradient,
                what="gradient",
                case=case,
                mistakes=[
                    Mistake(
                        gradient * n,
                        "the gradient must be divided by the number of "
                        "examples, because the loss is a mean.",
                    ),
                    Mistake(
                        gradient * n + np.eye(logits.shape[1])[labels],
                        "this is softmax(logits) itself: subtract 1 at each true class, "
                        "then divide by n.",
                    ),
                ],
            )
            check.passed_case()
    return check.report


def _spirals():
    return make_spirals(300, classes=3, noise=0.2, seed=0), make_spirals(
        300, classes=3, noise=0.2, seed=1
    )


def train_network(
    student_function,
    *,
    n_hidden: int = 50,
    learning_rate: float = 1.0,
    epochs: int = 2000,
    threshold: float = 0.9,
):
    """Task 4: a 2-layer tanh network trained on three spirals reaches ``threshold``."""
    with Checker("Task 4 · train_network") as check:
        (X, y), (X_test, y_test) = _spirals()
        got = check.call(
            student_function,
            X,
            y,
            n_hidden=n_hidden,
            learning_rate=learning_rate,
            epochs=epochs,
            seed=0,
        )
        parameters, losses = check.unpack(got, 2, what="the pair (parameters, losses)")
        W1, b1, W2, b2 = check.unpack(parameters, 4, what="parameters = (W1, b1, W2, b2)")
        for name, value, shape in (
            ("W1", W1, (n_hidden, 2)),
            ("b1", b1, (n_hidden,)),
            ("W2", W2, (3, n_hidden)),
            ("b2", b2, (3,)),
        ):
            if np.shape(value) != shape:
                check.fail(f"{name} should have shape {shape}, got {np.shape(value)}.")
        losses = np.asarray(losses, dtype=float)
        if losses.shape != (epochs,):
            check.fail(
                f"losses should hold one loss per epoch, {epochs} values; got shape {losses.shape}."
            )
        finite = (
            losses[: np.argmin(np.isfinite(losses))] if not np.all(np.isfinite(losses)) else losses
        )
        if len(finite) > 1 and finite[-1] >= finite[0]:
            check.fail(
                f"the loss went from {finite[0]:.3f} up to {finite[-1]:.3f}"
                f"{' and then to NaN or inf' if len(finite) < len(losses) else ''}: the "
                "update must go *down* the gradient, W -= learning_rate * dW."
            )
        if len(finite) < len(losses):
            check.fail(
                "the loss became NaN or inf: is softmax_cross_entropy shifted by the "
                "row maximum? Is the learning rate reasonable?"
            )
        layers = [
            reference.Layer(np.asarray(W1, float), np.asarray(b1, float), "tanh"),
            reference.Layer(np.asarray(W2, float), np.asarray(b2, float), "identity"),
        ]
        accuracy = float(np.mean(reference.predict_classes(layers, X_test) == y_test))
        if accuracy < threshold:
            check.fail(
                f"test accuracy {accuracy:.1%}, below {threshold:.0%} (loss "
                f"{losses[0]:.3f} → {losses[-1]:.3f}). If tasks 1–3 pass, look at the "
                "backward pass through tanh: δ1 = dA1 * (1 − A1²)."
            )
        check.summary = (
            f"the loss falls from {losses[0]:.2f} to {losses[-1]:.2f} and your "
            f"network classifies {accuracy:.0%} of unseen spiral points correctly"
        )
    return check.report
