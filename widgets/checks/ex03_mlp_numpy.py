"""Checks for exercise 3, a multi-layer network in NumPy (whole batches, matrix form).

Conventions and expected values come from :mod:`widgets.mlp_by_hand` (lesson 3): one
example per row, ``W`` of shape ``(n_out, n_in)``, losses averaged over the batch. The
tasks ask for variants lesson 3 did not show: layers applied to batches of sequences
(any number of leading axes) and a label-smoothed cross-entropy.
"""

from __future__ import annotations

import numpy as np

from widgets import mlp_by_hand as reference
from widgets.checks import Checker, Hints, Mistake, check_claims
from widgets.toy_data import make_spirals

hint = Hints(
    {
        1: [
            "A_prev has one example per row in its last axis, (..., n_in); W is "
            "(n_out, n_in). Which product maps the last axis from n_in to n_out?",
            "NumPy's @ treats all leading axes as a batch, and adding b, shape (n_out,), "
            "broadcasts over them.",
            "Before computing, compare A_prev's last axis with W's second and b's length with "
            "W's first; when one differs, raise a ValueError whose message shows the three "
            "shapes (NumPy's own errors show none of them).",
            "Zᵢ = Wxᵢ + b for every example xᵢ, written for all rows at once.",
        ],
        2: [
            "Each gradient has the shape of what it differentiates: dW like W (n_out, n_in), "
            "db like b (n_out,), dA_prev like A_prev (..., n_in).",
            "W and b are shared by every example along *all* leading axes (batch and time), "
            "so their gradients sum over all of them. Flattening the leading axes into one "
            "turns a 3-D case into the 2-D one.",
            "∂L/∂W = Σ over examples of δᵢ aᵢᵀ;  ∂L/∂b = Σ δᵢ;  ∂L/∂aᵢ = Wᵀδᵢ for each "
            "example (as a row: δᵢ W).",
        ],
        3: [
            "Label smoothing replaces the one-hot target by a softer one: q = (1 − ε) on the "
            "true class plus ε/K on every class (K classes), so each row of q sums to 1.",
            "Compute log-softmax stably (subtract each row's maximum before exp), then the "
            "loss is minus the mean over examples of Σₖ qₖ log pₖ.",
            "L = −(1/n) Σᵢ Σₖ qᵢₖ log pᵢₖ;  ∂L/∂Z = (p − q) / n.",
        ],
        4: [
            "Initialise each W from N(0, 1/n_in) with the generator you are given, biases at "
            "zero. Then, each epoch: forward, loss, backward, update.",
            "Forward: dense, tanh, dense, then your loss. Backward: start from the loss's "
            "gradient and go back through both layers with your dense_backward.",
            "δ₁ = (∂L/∂A₁) ⊙ (1 − A₁²) is tanh's derivative; every parameter moves against its "
            "gradient: θ ← θ − η ∂L/∂θ.",
        ],
    }
)

# (examples, inputs, outputs, seed, what the case tests); one square W to catch a
# transpose that a shape error would not reveal.
# A leading shape (4, 5) is a batch of 4 sequences of 5 steps.
_LAYER_CASES = [
    ((5,), 3, 4, 0, "5 examples, 3 inputs, 4 outputs"),
    ((1,), 4, 2, 1, "a single example"),
    ((6,), 3, 3, 2, "square W (3 × 3)"),
    ((8,), 10, 1, 3, "one output unit"),
    ((4, 5), 3, 2, 4, "a batch of 4 sequences of 5 steps, shape (4, 5, 3)"),
    ((2, 3), 3, 3, 5, "a batch of 2 sequences of 3 steps, square W"),
]


def _layer_case(leading, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(*leading, n_in)),
        rng.normal(size=(n_out, n_in)),
        rng.normal(size=n_out),
        rng.normal(size=(*leading, n_out)),
    )


def _reference_layer(A, W, b, delta):
    """Lesson 3's layer on the leading axes flattened into one: Z, dW, db, dA_prev."""
    rows_A, rows_delta = A.reshape(-1, A.shape[-1]), delta.reshape(-1, delta.shape[-1])
    layer = reference.Layer(W.copy(), b.copy(), "identity")
    cache = reference.mlp_forward([layer], rows_A)
    gradients = reference.mlp_backward([layer], cache, rows_delta)[0]
    dA = rows_delta @ W
    return (
        cache.pre_activations[0].reshape(*A.shape[:-1], -1),
        gradients.W,
        gradients.b,
        dA.reshape(A.shape),
    )


# Shapes that do not fit (A_prev, W, b, what is wrong): a layer must refuse them by name.
_MISFITS = [
    ((5, 3), (4, 2), (4,), "A_prev has 3 inputs per example, W expects 2"),
    ((5, 3), (4, 3), (3,), "b has 3 entries, W has 4 output units"),
    ((2, 6, 3), (4, 5), (4,), "sequences of 3 inputs, W expects 5"),
]


def _value_error_message(student_function):
    """The student's function, returning the message of the ValueError it raises (None
    when it raises none); any other exception goes to the check as usual."""

    def refusal(A, W, b):
        try:
            student_function(A, W, b)
        except ValueError as error:
            return str(error)
        return None

    return refusal


def dense_forward(student_function):
    """Task 1: ``Z = A_prev Wᵀ + b`` for inputs of any leading shape, and a ValueError
    naming the shapes when they do not fit."""
    with Checker("Task 1 · dense_forward") as check:
        for leading, n_in, n_out, seed, case in _LAYER_CASES:
            A, W, b, delta = _layer_case(leading, n_in, n_out, seed)
            expected = _reference_layer(A, W, b, delta)[0]
            got = check.call_unchanged(student_function, A, W, b, case=case)
            check.expect(
                got,
                expected,
                what="Z",
                case=case,
                show_expected=False,
                mistakes=[
                    Mistake(lambda A=A, W=W: A @ W.T, "the bias b is missing."),
                    Mistake(
                        lambda A=A, W=W, b=b: A @ W + b,
                        "W is (n_out, n_in): multiplying by W itself maps n_out inputs, "
                        "so the product uses its transpose.",
                    ),
                ],
            )
            check.passed_case()
        for A_shape, W_shape, b_shape, case in _MISFITS:
            A, W, b = np.ones(A_shape), np.ones(W_shape), np.ones(b_shape)
            message = check.call(_value_error_message(student_function), A, W, b, case=case)
            if message is None:
                check.fail(
                    f"A_prev {A_shape}, W {W_shape} and b {b_shape} do not fit, and your "
                    "function raised no ValueError: check the shapes before computing.",
                    case=case,
                )
            named = [shape for shape in (A_shape, W_shape, b_shape) if str(shape) in message]
            if len(named) < 3:
                check.fail(
                    f"your ValueError says {message!r}: it should show the shapes of A_prev, "
                    f"W and b (here {A_shape}, {W_shape} and {b_shape}), so that whoever "
                    "called the layer sees what did not fit.",
                    case=case,
                )
            check.passed_case()
    return check.report


def dense_backward(student_function):
    """Task 2: ``(dW, db, dA_prev)`` from ``delta = dL/dZ``, any leading shape."""
    with Checker("Task 2 · dense_backward") as check:
        for leading, n_in, n_out, seed, case in _LAYER_CASES:
            A, W, b, delta = _layer_case(leading, n_in, n_out, seed)
            _, want_W, want_b, want_dA = _reference_layer(A, W, b, delta)
            n = int(np.prod(leading))
            got = check.call_unchanged(student_function, delta, A, W, case=case)
            dW, db, dA = check.unpack(got, 3, what="the tuple (dW, db, dA_prev)", case=case)
            check.expect(
                dW,
                want_W,
                what="dW",
                case=case,
                show_expected=False,
                mistakes=[
                    Mistake(
                        want_W.T,
                        "this is the transpose: dW has W's shape (n_out, n_in).",
                    ),
                    Mistake(
                        want_W / n,
                        "divided by the number of examples: the loss's "
                        "gradient already carries the 1/n, so dW is a plain sum.",
                    ),
                ],
            )
            check.expect(
                db,
                want_b,
                what="db",
                case=case,
                show_expected=False,
                mistakes=[
                    Mistake(
                        want_b / n,
                        "this is the mean over examples; the bias gradient is their sum.",
                    ),
                    Mistake(
                        lambda d=delta: d.sum(axis=0),
                        "summed over the first axis only: with sequences, every leading axis "
                        "(batch and time) holds examples, and db sums over all of them.",
                    ),
                    Mistake(
                        lambda d=delta: d.sum(axis=-1),
                        "summed over the output units: keep one value per output unit and "
                        "sum over the examples instead.",
                    ),
                ],
            )
            transposed = (
                [
                    Mistake(
                        delta @ W.T,
                        "W must not be transposed here: dA_prev maps back from n_out to n_in.",
                    )
                ]
                if n_in == n_out
                else []
            )
            check.expect(
                dA, want_dA, what="dA_prev", case=case, mistakes=transposed, show_expected=False
            )
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


def _smoothed_cross_entropy(logits, labels, smoothing):
    """The expected loss and gradient (log-sum-exp with the row maximum taken out)."""
    n, classes = logits.shape
    targets = np.full((n, classes), smoothing / classes)
    targets[np.arange(n), labels] += 1 - smoothing
    top = logits.max(axis=1, keepdims=True)
    log_p = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    return float(-(targets * log_p).sum() / n), (np.exp(log_p) - targets) / n, targets, log_p


def softmax_cross_entropy(student_function):
    """Task 3: mean label-smoothed cross-entropy of softmax(logits) and its gradient."""
    with Checker("Task 3 · softmax_cross_entropy") as check:
        for logits, labels, case in _loss_cases():
            for smoothing in (0.0, 0.1, 0.3):
                here = f"{case}, smoothing {smoothing}"
                loss, gradient, targets, log_p = _smoothed_cross_entropy(logits, labels, smoothing)
                n, classes = logits.shape
                got = check.call_unchanged(student_function, logits, labels, smoothing, case=here)
                got_loss, got_gradient = check.unpack(
                    got, 2, what="the pair (loss, gradient)", case=here
                )
                plain = _smoothed_cross_entropy(logits, labels, 0.0)
                other_classes = np.full((n, classes), smoothing / max(classes - 1, 1))
                other_classes[np.arange(n), labels] = 1 - smoothing
                check.expect(
                    got_loss,
                    loss,
                    what="loss",
                    case=here,
                    show_expected=False,
                    mistakes=[
                        Mistake(loss * n, "this is the sum over examples; the loss is their mean."),
                        Mistake(-loss, "the sign: the loss is minus the log-probability."),
                        *(
                            [
                                Mistake(
                                    plain[0],
                                    "the smoothing was ignored: the target puts "
                                    "ε/K on every class and 1 − ε more on the true one.",
                                )
                            ]
                            if smoothing
                            else []
                        ),
                        Mistake(
                            -(other_classes * log_p).sum() / n,
                            "ε was spread over the K − 1 wrong classes only: it is spread "
                            "over all K classes, the true one included.",
                        ),
                    ],
                )
                check.expect(
                    got_gradient,
                    gradient,
                    what="gradient",
                    case=here,
                    show_expected=False,
                    mistakes=[
                        Mistake(
                            gradient * n,
                            "the gradient must be divided by the number of "
                            "examples, because the loss is a mean.",
                        ),
                        Mistake(
                            np.exp(log_p) / n,
                            "this is softmax(logits) / n: the target distribution is missing.",
                        ),
                        *(
                            [Mistake(plain[1], "the smoothing was ignored in the gradient.")]
                            if smoothing
                            else []
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
    lr: float = 1.0,
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
            lr=lr,
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
                "update must go *down* the gradient: subtract the learning rate times it."
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
                "backward pass through tanh: its derivative is 1 − tanh²."
            )
        check.summary = (
            f"the loss falls from {losses[0]:.2f} to {losses[-1]:.2f} and your "
            f"network classifies {accuracy:.0%} of unseen spiral points correctly"
        )
    return check.report


def divergence(experiment, claims):
    """Stretch (optional): where plain gradient descent diverges, claims re-measured."""
    return check_claims("Stretch · where training diverges", experiment, claims, rtol=0.01)
