"""Exercise 7's checks of tasks 5 and 6 (a 2-layer network of the student's ``Value`` s,
trained on moons) and the stepper replaying the student's engine."""

from __future__ import annotations

import numpy as np
import torch

from widgets.checks import Checker
from widgets.checks.ex07_common import _close, _expect, _node, _number
from widgets.toy_data import make_moons


# --------------------------------------------------------------------------- tasks 5-6
def _network_numbers(model) -> tuple[np.ndarray, ...]:
    return tuple(
        np.array([[v.data for v in row] for row in matrix], dtype=float)
        if isinstance(matrix[0], list)
        else np.array([v.data for v in matrix], dtype=float)
        for matrix in (model.W1, model.b1, model.W2, model.b2)
    )


def _torch_scores(W1, b1, W2, b2, X):
    """Scores of the 2-layer relu network for every row of X, differentiable in W and b."""
    X = torch.as_tensor(np.asarray(X, dtype=float))
    return (torch.relu(X @ W1.T + b1) @ W2.T + b2)[:, 0]


def _tensors(numbers):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in numbers]


def two_layer_net(cls):
    """Task 5: ``TwoLayerNet.__call__``: the score and its gradients against PyTorch."""
    with Checker("Task 5 · TwoLayerNet") as check:
        model = check.call(cls, 2, 4, 7)
        numbers = _network_numbers(model)
        W1, b1, W2, b2 = numbers
        points = [(0.5, -1.0), (-1.2, 0.3), (1.5, 1.1)]
        for x in points:
            case = f"x = {x}"
            score = check.call(model, list(x), case=case)
            if isinstance(score, (list, tuple)):
                check.fail(
                    "the network should return one Value (the score), got a "
                    f"{type(score).__name__}.",
                    case=case,
                )
            score = _node(check, type(model.b2[0]), score, what="model(x)", case=case)
            z = W1 @ np.array(x) + b1
            want = float(W2[0] @ np.maximum(z, 0) + b2[0])
            _expect(
                check,
                score.data,
                want,
                what="the score",
                case=case,
                mistakes=[
                    (float(W2[0] @ z + b2[0]), "the hidden layer's relu is missing."),
                    (
                        float(W2[0] @ np.maximum(W1 @ np.array(x), 0) + b2[0]),
                        "the hidden biases b1 are missing.",
                    ),
                    (want - b2[0], "the output bias b2 is missing."),
                ],
            )
            check.call(score.backward, case=case)
            tensors = _tensors(numbers)
            _torch_scores(*tensors, [x])[0].backward()
            for name, values, tensor in zip(
                ("W1", "b1", "W2", "b2"),
                (model.W1, model.b1, model.W2, model.b2),
                tensors,
                strict=True,
            ):
                got = np.array(
                    [[v.grad for v in row] for row in values]
                    if isinstance(values[0], list)
                    else [v.grad for v in values]
                )
                if not np.allclose(got, tensor.grad.numpy(), atol=1e-9):
                    check.fail(
                        f"the gradient of the score with respect to {name} differs from "
                        "PyTorch's: does every weight enter the score through the "
                        "operations of your engine?",
                        case=case,
                    )
            check.passed_case()
    return check.report


def _moons(n: int, seed: int):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return (X - [0.5, 0.25]) / [0.87, 0.5], 2 * y - 1  # centred, about unit spread


def train(train_function, cls):
    """Task 6: one SGD step against PyTorch, then a short run whose loss must fall."""
    with Checker("Task 6 · train") as check:
        case = "one step on 4 points, batch_size = 4"
        model = check.call(cls, 2, 3, 5)
        X, y = _moons(4, seed=11)
        numbers = _network_numbers(model)
        tensors = _tensors(numbers)
        torch_loss = torch.relu(
            1 - torch.as_tensor(y, dtype=torch.float64) * _torch_scores(*tensors, X)
        ).mean()
        torch_loss.backward()
        lr = 0.5
        losses = check.call(train_function, model, X, y, 1, 4, lr, 0, case=case)
        if not isinstance(losses, (list, tuple)) or len(losses) != 1:
            check.fail(
                "train() should return a list with one loss per step (1 here), got "
                f"{losses!r:.60}.",
                case=case,
            )
        loss = losses[0]
        if hasattr(loss, "data") and hasattr(loss, "_backward"):
            check.fail(
                "the losses should be numbers (the loss Value's .data), not Values.", case=case
            )
        _expect(
            check,
            loss,
            torch_loss.item(),
            what="the loss",
            case=case,
            mistakes=[
                (4 * torch_loss.item(), "this is the sum over the batch; the loss is the mean."),
            ],
        )
        after = _network_numbers(model)
        for name, start, new, tensor in zip(
            ("W1", "b1", "W2", "b2"), numbers, after, tensors, strict=True
        ):
            want = start - lr * tensor.grad.numpy()
            if np.allclose(new, want, atol=1e-9):
                continue
            if np.allclose(new, start):
                message = "did not change: move every parameter by −lr × its gradient."
            elif np.allclose(new, start + lr * tensor.grad.numpy(), atol=1e-9):
                message = "moved up the gradient: subtract lr × grad to go down the loss."
            elif np.allclose(new, start - tensor.grad.numpy(), atol=1e-9):
                message = "moved by the whole gradient: the step is lr × grad."
            else:
                message = "is not the step −lr × gradient of the mean hinge loss."
            check.fail(f"after one step, {name} {message}", case=case)
        check.passed_case()

        case = "40 steps on 60 moons points, batch_size = 8"
        model = check.call(cls, 2, 8, 1, case=case)
        X, y = _moons(60, seed=12)
        losses = check.call(train_function, model, X, y, 40, 8, 0.3, 3, case=case)
        losses = [_number(check, v, what="a loss", case=case) for v in losses]
        if len(losses) != 40:
            check.fail(f"train() returned {len(losses)} losses for 40 steps.", case=case)
        if not np.mean(losses[-10:]) < losses[0]:
            check.fail(
                f"the loss did not fall (first {losses[0]:.3f}, mean of the last ten "
                f"{np.mean(losses[-10:]):.3f}).",
                case=case,
            )
        check.passed_case()
    return check.report


# --------------------------------------------------------------------------- the stepper
def stepper(build, **stepper_options):
    """Your engine in the course's ``BackpropStepper``, with a verdict.

    ``build()`` returns ``(loss, parameters)``. The stepper replays the graph with your
    operations' own rules (:func:`widgets.autodiff_bridge.mirror`); the verdict says
    whether each of its gradients agrees with a numerical estimate and with your
    ``backward()``. Returns the stepper, or None while the engine is not done.
    """
    from widgets.autodiff_bridge import mirror
    from widgets.backprop import BackpropStepper

    widget = None
    with Checker("Your engine in the stepper") as check:
        loss, parameters = check.unpack(check.call(build), 2, what="(loss, parameters)")
        parameters = list(parameters)
        check.call(loss.backward)
        copies: dict = {}
        output = check.call(lambda: mirror(loss, parameters=parameters, copies=copies))
        widget = BackpropStepper(output, **stepper_options)
        tape = widget.tape
        tape.run_backward()
        disagree = [i for i in range(len(tape.nodes)) if tape.gradient_agrees(i) is False]
        differ = [
            p
            for p in parameters
            if id(p) in copies and not _close(tape.grad_of(copies[id(p)]), p.grad, 1e-6)
        ]
        tape.reset()
        if any(id(p) not in copies for p in parameters):
            check.fail("some parameters are not part of the loss's graph.")
        if disagree:
            check.fail(
                f"the stepper's numerical check disagrees with {len(disagree)} of the "
                f"gradients (the first at node {tape.names[disagree[0]]}): an operation's "
                "_backward rule is wrong."
            )
        if differ:
            check.fail(
                f"your backward() gives {len(differ)} parameters another gradient than the "
                "stepper's replay of your rules: look at its order and accumulation."
            )
        check.summary = (
            f"the stepper replays your engine on {len(tape.nodes)} nodes; every gradient "
            "agrees with its numerical estimate and with your backward()"
        )
    return widget
