"""Checks for exercise 2, forward and backward propagation by hand.

The network is lesson 2's: sigmoid units, squared error, one example at a time, with
the conventions of :mod:`widgets.mlp_by_hand` (``W`` has shape ``(n_out, n_in)``). The
expected values come from that module. Lesson 3 shows a numerical gradient entry by entry;
task 4 asks for a variant it did not show, the central difference along a direction (a
randomised gradient check needs two loss evaluations per direction, not per weight).
"""

from __future__ import annotations

import numpy as np

from widgets import mlp_by_hand as reference
from widgets.activations import sigmoid
from widgets.checks import Checker, Hints, Mistake, check_claims
from widgets.gradcheck import relative_error

hint = Hints(
    {
        1: [
            "Write the chain of computations first: z = w·x + b, ŷ = σ(z), L = (ŷ − t)². "
            "Then dL/dw = dL/dŷ · dŷ/dz · dz/dw.",
            "dL/dŷ = 2(ŷ − t); dŷ/dz = σ'(z) = ŷ(1 − ŷ); dz/dw = x and dz/db = 1.",
            "Multiply the three factors of the chain; dL/db is the same product with "
            "dz/db = 1 in place of x.",
        ],
        2: [
            "Each layer is an affine map followed by the sigmoid; the output of the first "
            "is the input of the second.",
            "W1 has one row per hidden unit, so W1 times x has one entry per hidden unit. Use "
            "widgets.activations.sigmoid (already imported) for both layers.",
            "z₁ = W₁x + b₁,  h = σ(z₁),  z₂ = W₂h + b₂,  ŷ = σ(z₂).",
        ],
        3: [
            "Call your forward() first to get z1, h, z2 and y_hat, then go backwards: "
            "δ2 = dL/dz2 first, then δ1 = dL/dz1.",
            "A weight's gradient is (δ of its layer) times (input of its layer), arranged in "
            "the weight's own shape; a bias's gradient is the δ of its layer.",
            "δ₂ = 2(ŷ − t) ⊙ ŷ(1 − ŷ);  δ₁ = (W₂ᵀδ₂) ⊙ h(1 − h);  ∂L/∂W₂ = δ₂hᵀ, "
            "∂L/∂W₁ = δ₁xᵀ.",
        ],
        4: [
            "A derivative along a direction d measures how fast L changes when θ moves along "
            "d: two evaluations of loss() suffice, one on each side of θ.",
            "loss() reads the very array `parameter`: move that array itself (in place), "
            "evaluate, move it to the other side, evaluate, and finally write the original "
            "values back from a copy you kept (adding and subtracting leaves rounding errors).",
            "D_d L(θ) ≈ (L(θ + εd) − L(θ − εd)) / (2ε).",
        ],
    }
)

# (weight, bias, input, target, what the case tests): x is never 0, 1 or 2 so that dL/dw,
# dL/db and half of dL/dw differ, and one case saturates the sigmoid.
_NEURON_CASES = [
    (0.5, 0.1, 3.0, 1.0, "w = 0.5, b = 0.1, x = 3, t = 1"),
    (-1.2, 0.4, -0.7, 0.0, "negative input, target 0"),
    (0.3, -0.2, 1.5, 0.25, "fractional target"),
    (2.0, 1.0, 3.0, 0.0, "saturated sigmoid (z = 7)"),
]


def single_neuron_gradients(student_function):
    """Task 1: ``(dL/dw, dL/db)`` for ``ŷ = σ(w x + b)``, ``L = (ŷ − t)²``."""
    with Checker("Task 1 · single_neuron_gradients") as check:
        for w, b, x, t, case in _NEURON_CASES:
            layers = [reference.Layer(np.array([[w]]), np.array([b]), "sigmoid")]
            _, gradients = reference.mlp_loss_and_gradients(layers, [[x]], [[t]], "mse")
            want_w, want_b = gradients[0].W[0, 0], gradients[0].b[0]
            got = check.call(student_function, w, b, x, t, case=case)
            got_w, got_b = check.unpack(got, 2, what="the pair (dL/dw, dL/db)", case=case)
            y = float(sigmoid(w * x + b))
            no_sigmoid = Mistake(
                2 * (y - t) * x,
                "this is 2(ŷ − t)·x: the sigmoid's "
                "derivative σ'(z) = ŷ(1 − ŷ) is missing from the chain.",
            )
            no_two = Mistake(
                want_w / 2,
                "half the expected value: the derivative of (ŷ − t)² "
                "is 2(ŷ − t), and the 2 is missing.",
            )
            is_db = Mistake(want_b, "this is dL/db: dL/dw has one more factor, dz/dw = x.")
            check.expect(
                got_w, want_w, what="dL/dw", case=case, mistakes=[no_sigmoid, no_two, is_db]
            )
            check.expect(
                got_b,
                want_b,
                what="dL/db",
                case=case,
                mistakes=[
                    Mistake(2 * (y - t), "the sigmoid's derivative ŷ(1 − ŷ) is missing."),
                    Mistake(want_b / 2, "the 2 from the derivative of (ŷ − t)² is missing."),
                    Mistake(want_w, "this is dL/dw: dz/db = 1, so there is no factor x here."),
                ],
            )
            check.passed_case()
    return check.report


def _random_network(n_in: int, n_hidden: int, seed: int):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=n_in),
        rng.normal(size=(n_hidden, n_in)),
        rng.normal(size=n_hidden),
        rng.normal(size=(1, n_hidden)),
        rng.normal(size=1),
    )


# (inputs, hidden units, seed, what the case tests)
_NETWORK_CASES = [
    (2, 2, 0, "lesson 2's 2-2-1 network"),
    (2, 3, 1, "2 inputs, 3 hidden units"),
    (4, 3, 2, "4 inputs, 3 hidden units"),
    (3, 5, 3, "3 inputs, 5 hidden units"),
]


def _reference_layers(W1, b1, W2, b2):
    return [
        reference.Layer(W1.copy(), b1.copy(), "sigmoid"),
        reference.Layer(W2.copy(), b2.copy(), "sigmoid"),
    ]


def forward(student_function):
    """Task 2: ``(z1, h, z2, y_hat)`` of the 2-layer sigmoid network for one example."""
    with Checker("Task 2 · forward") as check:
        for n_in, n_hidden, seed, case in _NETWORK_CASES:
            x, W1, b1, W2, b2 = _random_network(n_in, n_hidden, seed)
            cache = reference.mlp_forward(_reference_layers(W1, b1, W2, b2), x.reshape(1, -1))
            z1, z2 = (z[0] for z in cache.pre_activations)
            h, y_hat = cache.activations[1][0], cache.activations[2][0]
            got = check.call_unchanged(student_function, x, W1, b1, W2, b2, case=case)
            got_z1, got_h, got_z2, got_y = check.unpack(
                got, 4, what="the tuple (z1, h, z2, y_hat)", case=case
            )
            check.expect(
                got_z1,
                z1,
                what="z1",
                case=case,
                mistakes=[
                    Mistake(W1 @ x, "the bias b1 is missing from z1."),
                    Mistake(
                        sigmoid(z1), "this is h = σ(z1): z1 is the value *before* the sigmoid."
                    ),
                ],
            )
            check.expect(
                got_h,
                h,
                what="h",
                case=case,
                mistakes=[
                    Mistake(z1, "this is z1: apply the sigmoid to get h."),
                    Mistake(np.maximum(z1, 0), "this is ReLU(z1); the network uses the sigmoid."),
                ],
            )
            check.expect(
                got_z2,
                z2,
                what="z2",
                case=case,
                mistakes=[
                    Mistake(W2 @ h, "the bias b2 is missing from z2."),
                    Mistake(W2 @ z1 + b2, "the output layer must read h = σ(z1), not z1."),
                ],
            )
            check.expect(
                got_y,
                y_hat,
                what="y_hat",
                case=case,
                mistakes=[
                    Mistake(z2, "this is z2: the output unit applies the sigmoid too."),
                ],
            )
            check.passed_case()
    return check.report


def backward(student_function):
    """Task 3: ``(dW1, db1, dW2, db2)`` for ``L = (ŷ − t)²`` on one example."""
    with Checker("Task 3 · backward") as check:
        for (n_in, n_hidden, seed, case), target in zip(
            _NETWORK_CASES, [1.0, 0.0, 0.3, 0.8], strict=True
        ):
            x, W1, b1, W2, b2 = _random_network(n_in, n_hidden, seed)
            t = np.array([target])
            layers = _reference_layers(W1, b1, W2, b2)
            _, grads = reference.mlp_loss_and_gradients(
                layers, x.reshape(1, -1), t.reshape(1, 1), "mse"
            )
            cache = reference.mlp_forward(layers, x.reshape(1, -1))
            h, y = cache.activations[1][0], cache.activations[2][0]
            delta2 = grads[1].delta[0]
            no_sigmoid_hidden = W2.T @ delta2  # forgot h(1 - h) on the way back
            got = check.call_unchanged(student_function, x, t, W1, b1, W2, b2, case=case)
            dW1, db1, dW2, db2 = check.unpack(
                got, 4, what="the tuple (dW1, db1, dW2, db2)", case=case
            )
            check.expect(
                dW2,
                grads[1].W,
                what="dW2",
                case=case,
                mistakes=[
                    Mistake(
                        np.outer(2 * (y - t), h),
                        "the sigmoid's derivative ŷ(1 − ŷ) is missing from δ2.",
                    ),
                ],
            )
            check.expect(
                db2,
                grads[1].b,
                what="db2",
                case=case,
                mistakes=[
                    Mistake(2 * (y - t), "the sigmoid's derivative ŷ(1 − ŷ) is missing from δ2."),
                ],
            )
            check.expect(
                db1,
                grads[0].b,
                what="db1",
                case=case,
                mistakes=[
                    Mistake(
                        no_sigmoid_hidden,
                        "δ1 must also go through the hidden sigmoid: its derivative "
                        "h(1 − h) is missing.",
                    ),
                    Mistake(
                        (W2.T @ delta2) * (1 - h),
                        "the sigmoid's derivative is h(1 − h): the factor h is missing.",
                    ),
                ],
            )
            check.expect(
                dW1,
                grads[0].W,
                what="dW1",
                case=case,
                mistakes=[
                    Mistake(
                        np.outer(no_sigmoid_hidden, x),
                        "δ1 must also go through the hidden "
                        "sigmoid: its derivative h(1 − h) is missing.",
                    ),
                    Mistake(
                        np.outer(x, grads[0].b),
                        "this is the transpose: dW1 has W1's shape, "
                        "one row per hidden unit and one column per input.",
                    ),
                ],
            )
            check.passed_case()
    return check.report


def _test_function(theta):
    return float(np.sum(np.sin(theta) * theta**2) + theta.ravel()[0] * theta.ravel()[-1])


def _test_gradient(theta):
    gradient = np.cos(theta) * theta**2 + 2 * theta * np.sin(theta)
    flat = gradient.ravel()
    flat[0] += theta.ravel()[-1]
    flat[-1] += theta.ravel()[0]
    return gradient


def directional_derivative(student_function):
    """Task 4: ``directional_derivative(loss, parameter, direction, epsilon)``.

    ``loss()`` takes no argument and reads ``parameter``, like a network's loss reads its
    weights. The expected value is the exact gradient's dot product with the direction.
    """
    with Checker("Task 4 · directional_derivative") as check:
        rng = np.random.default_rng(4)
        # A large epsilon makes a one-sided difference's O(ε) error plain to see, while the
        # central difference stays within O(ε²) of the exact derivative.
        for shape, epsilon, basis, case in [
            ((3,), 1e-5, False, "a vector of 3, a random direction"),
            ((2, 3), 1e-5, False, "a 2×3 matrix, a random direction"),
            ((4,), 1e-5, True, "direction e₂ (the partial derivative along entry 2)"),
            ((4,), 1e-2, False, "epsilon = 0.01"),
        ]:
            theta = rng.normal(size=shape)
            direction = np.zeros(shape) if basis else rng.normal(size=shape)
            if basis:
                direction[2] = 1.0
            exact = float(np.sum(_test_gradient(theta) * direction))
            kept, kept_direction = theta.copy(), direction.copy()

            def loss(theta=theta):  # reads the array, as a network's loss reads its weights
                return _test_function(theta)

            got = check.call(student_function, loss, theta, direction, epsilon, case=case)
            if not np.array_equal(theta, kept):
                check.fail(
                    "the parameter was not restored exactly: after your function its "
                    "entries differ from what they were (by up to "
                    f"{np.abs(theta - kept).max():.1e}). Adding and subtracting ε·d again "
                    "leaves rounding errors: keep a copy of the original values and write "
                    "them back.",
                    case=case,
                )
            if not np.array_equal(direction, kept_direction):
                check.fail("your function changed the direction: leave it as it is.", case=case)
            one_sided = (
                _test_function(kept + epsilon * direction) - _test_function(kept)
            ) / epsilon
            tolerance = 10 * epsilon**2 * max(1.0, float(np.sum(direction**2))) + 1e-7
            check.expect(
                got,
                exact,
                what="the directional derivative",
                case=case,
                atol=tolerance,
                rtol=0,
                show_expected=False,
                mistakes=[
                    Mistake(
                        one_sided,
                        "this is the one-sided difference (L(θ + εd) − L(θ)) / ε, whose error "
                        "is of order ε; the central difference is accurate to order ε².",
                    ),
                    Mistake(
                        0.0,
                        "zero: loss() reads the array you were given, so change that array "
                        "itself (in place), not a copy, then restore it.",
                    ),
                    Mistake(2 * exact, "twice the derivative: the two points are 2ε apart."),
                ],
            )
            check.passed_case()
    return check.report


def gradients_agree(backward_function, directional_derivative_function):
    """Task 5: the student's backward() against their own directional derivatives."""
    with Checker("Task 5 · backward agrees with directional_derivative") as check:
        x, W1, b1, W2, b2 = _random_network(3, 4, seed=5)
        t = np.array([0.7])
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        analytic = check.unpack(
            check.call(backward_function, x, t, W1, b1, W2, b2),
            4,
            what="the tuple (dW1, db1, dW2, db2)",
        )

        def loss():
            return reference.mlp_loss(
                _reference_layers(W1, b1, W2, b2), x.reshape(1, -1), t.reshape(1, 1), "mse"
            )

        directions = np.random.default_rng(6)  # a local generator: the student's stays put
        errors = {}
        for (name, parameter), gradient in zip(params.items(), analytic, strict=True):
            gradient = check.expect_numbers(
                gradient, what=f"backward's d{name}", shape=parameter.shape
            )
            worst = 0.0
            for _ in range(3):
                direction = directions.normal(size=parameter.shape)
                numerical = check.call(
                    directional_derivative_function, loss, parameter, direction, 1e-6
                )
                numerical = float(check.expect_numbers(numerical, what="a directional derivative"))
                worst = max(
                    worst, relative_error(np.sum(gradient * direction), np.array(numerical))
                )
            errors[name] = worst
        wrong = [name for name, error in errors.items() if not error < 1e-6]
        if wrong:
            check.fail(
                "relative error of "
                + ", ".join(f"{n}: {errors[n]:.1e}" for n in wrong)
                + " (a correct gradient gives below 1e-6): the formula for "
                + " and ".join(wrong)
                + " in backward() is wrong."
            )
        check.summary = (
            "relative errors "
            + ", ".join(f"{n} < 1e-6" for n in errors)
            + " along 3 random directions each: your backpropagation is right"
        )
    return check.report


def epsilon_sweep(experiment, claims):
    """Stretch (optional): the best finite-difference step, claims re-measured."""
    return check_claims("Stretch · how small should ε be", experiment, claims)
