"""Checks for exercise 5, a PyTorch network for MNIST (or Fashion-MNIST).

The expected behaviour is that of :mod:`widgets.torch_training` (lesson 5's loops). A
wrong training loop is diagnosed by replaying the plausible mistakes (a forgotten
``zero_grad``, ``train()`` or ``step()``) and naming the one that matches.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from widgets import torch_training as reference
from widgets.checks import Checker, Hints, Mistake

hint = Hints(
    {
        1: [
            "nn.Sequential(...) chains layers: a Linear layer from 784 inputs to some hidden "
            "units, a ReLU, and a Linear layer to 10 outputs.",
            "Do not end with a softmax: nn.CrossEntropyLoss applies log-softmax itself and "
            "expects raw scores (logits).",
            "return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))",
        ],
        2: [
            "Start with model.train(), then for inputs, targets in loader: forward, loss, "
            "optimizer.zero_grad(), loss.backward(), optimizer.step().",
            "Without zero_grad() every backward() adds to the gradients of the previous batches.",
            "Accumulate loss.item() * len(targets) and the number of correct predictions "
            "(outputs.argmax(dim=1) == targets).sum().item(); divide both by the number of "
            "examples at the end.",
        ],
        3: [
            "model.eval() turns dropout off; `with torch.no_grad():` skips building the graph.",
            "Count correct predictions over all batches and divide by the number of examples: "
            "return a fraction between 0 and 1, not a count.",
        ],
    }
)


def _inputs(n: int = 7, features: int = 784) -> torch.Tensor:
    return torch.randn(n, features, generator=torch.Generator().manual_seed(5))


def build_model(student_function):
    """Task 1: a model mapping ``(N, 784)`` images to ``(N, 10)`` logits."""
    with Checker("Task 1 · build_model") as check:
        torch.manual_seed(0)
        model = check.call(student_function)
        if not isinstance(model, nn.Module):
            check.fail(
                f"build_model() should return an nn.Module (e.g. an nn.Sequential), "
                f"got a {type(model).__name__}."
            )
        parameters = sum(p.numel() for p in model.parameters())
        if parameters == 0:
            check.fail("the model has no parameters to learn: add nn.Linear layers.")
        if parameters > 3_000_000:
            check.fail(
                f"the model has {parameters:,} parameters: too big to train within a "
                "minute on a laptop CPU. A hidden layer of 128 to 256 units is enough."
            )
        model.eval()
        with torch.no_grad():
            outputs = check.call(model, _inputs(), case="a batch of 7 flattened images")
        if not isinstance(outputs, torch.Tensor) or tuple(outputs.shape) != (7, 10):
            shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else outputs
            check.fail(
                f"for a batch of 7 flattened images, shape (7, 784), the output should have "
                f"shape (7, 10), one logit per class; got {shape}."
            )
        rows = outputs.sum(dim=1)
        if bool((outputs >= 0).all()) and torch.allclose(rows, torch.ones_like(rows), atol=1e-4):
            check.fail(
                "the outputs are probabilities (each row sums to 1): remove the final "
                "softmax. nn.CrossEntropyLoss applies log-softmax itself and needs raw "
                "logits."
            )
        if not any(
            isinstance(m, (nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.SiLU))
            for m in model.modules()
        ):
            check.fail(
                "there is no activation between the layers: stacked Linear layers "
                "without one collapse into a single linear map. Add nn.ReLU()."
            )
        check.summary = f"{parameters:,} parameters, (batch, 784) → (batch, 10) logits"
    return check.report


def _tiny_problem(seed: int = 0):
    """A small model with dropout, a loader with a short last batch, and its optimizer."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(50, 20, generator=generator)
    y = torch.randint(0, 4, (50,), generator=generator)
    loader = [(X[i : i + 16], y[i : i + 16]) for i in range(0, 50, 16)]  # 16, 16, 16, 2
    torch.manual_seed(seed)
    model = reference.make_mlp([20, 16, 4], dropout=0.3)
    return model, loader


def _run(loop, model, loader, *, student: bool, check: Checker | None = None, case=None):
    model = copy.deepcopy(model)
    model.eval()  # the loop itself must switch to training mode
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    torch.manual_seed(1)  # the same dropout masks for every run
    if student:
        result = check.call(loop, model, loader, loss_fn, optimizer, case=case)
    else:
        result = loop(model, loader, loss_fn, optimizer)
    return model, result


def _without_zero_grad(model, loader, loss_fn, optimizer):
    model.train()
    for inputs, targets in loader:
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    return None


def _without_train_mode(model, loader, loss_fn, optimizer):
    for inputs, targets in loader:
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return None


def _unweighted_mean_loss(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for inputs, targets in loader:
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def _parameters(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def train_one_epoch(student_function):
    """Task 2: one epoch of training, returning ``(mean loss, accuracy)``."""
    with Checker("Task 2 · train_one_epoch") as check:
        model, loader = _tiny_problem()
        case = "4 batches (16, 16, 16 and 2 examples), a model with dropout, SGD"
        expected_model, (loss, accuracy) = _run(
            reference.train_one_epoch, model, loader, student=False
        )
        got_model, got = _run(student_function, model, loader, student=True, check=check, case=case)
        got_loss, got_accuracy = check.unpack(
            got, 2, what="the pair (mean loss, accuracy)", case=case
        )
        if torch.equal(_parameters(got_model), _parameters(model)):
            check.fail(
                "the parameters did not change: call optimizer.step() after loss.backward().",
                case=case,
            )
        wrong_loops = [
            (
                _without_zero_grad,
                "the gradients add up across batches: call "
                "optimizer.zero_grad() before loss.backward().",
            ),
            (
                _without_train_mode,
                "the model stayed in evaluation mode (dropout off): call "
                "model.train() at the start of the epoch.",
            ),
        ]
        mistakes = [
            Mistake(_parameters(_run(loop, model, loader, student=False)[0]), why)
            for loop, why in wrong_loops
        ]
        check.expect(
            _parameters(got_model),
            _parameters(expected_model),
            what="the parameters after one epoch",
            case=case,
            mistakes=mistakes,
            atol=1e-5,
        )
        unweighted = _run(_unweighted_mean_loss, model, loader, student=False)[1]
        check.expect(
            got_loss,
            loss,
            what="the mean loss",
            case=case,
            atol=1e-4,
            mistakes=[
                Mistake(
                    unweighted,
                    "this is the plain mean of the batch losses: weight each by "
                    "its batch size (loss.item() * len(targets)) so the short last batch "
                    "counts for what it is.",
                ),
            ],
        )
        check.expect(
            got_accuracy,
            accuracy,
            what="the accuracy",
            case=case,
            mistakes=[
                Mistake(
                    accuracy * 50,
                    "this is the number of correct predictions: divide by the number of examples.",
                ),
            ],
        )
        check.summary = "the parameters, mean loss and accuracy match lesson 5's loop"
    return check.report


def evaluate(student_function):
    """Task 3: accuracy on a loader, in evaluation mode, without gradients."""
    with Checker("Task 3 · evaluate") as check:
        model, loader = _tiny_problem(seed=2)
        case = "a model with dropout, left in training mode"
        expected = reference.evaluate(copy.deepcopy(model), loader, nn.CrossEntropyLoss())[1]
        evaluated = copy.deepcopy(model)
        evaluated.train()
        before = _parameters(evaluated)
        torch.manual_seed(3)
        got = check.call(student_function, evaluated, loader, case=case)
        if isinstance(got, (tuple, list)):
            check.fail("return only the accuracy (a number), not a tuple.", case=case)
        if not torch.equal(before, _parameters(evaluated)):
            check.fail(
                "evaluating changed the model's parameters: no optimizer step here.", case=case
            )
        if any(p.grad is not None for p in evaluated.parameters()):
            check.fail(
                "evaluating computed gradients (loss.backward()?): evaluation only "
                "runs the model forward, inside `with torch.no_grad():`.",
                case=case,
            )
        in_training_mode = copy.deepcopy(model)
        torch.manual_seed(3)
        with torch.no_grad():
            dropout_on = sum(int((in_training_mode(x).argmax(1) == y).sum()) for x, y in loader)
        check.expect(
            got,
            expected,
            what="the accuracy",
            case=case,
            mistakes=[
                Mistake(
                    dropout_on / 50,
                    "dropout was still on while predicting: call model.eval() before the loop.",
                ),
                Mistake(
                    expected * 50,
                    "this is the number of correct predictions: divide by the number of examples.",
                ),
                Mistake(100 * expected, "this is a percentage: return a fraction between 0 and 1."),
            ],
        )
        check.summary = "the accuracy matches lesson 5's evaluate, in evaluation mode"
    return check.report


def full_training(
    build_model_function,
    train_function,
    evaluate_function,
    loaders,
    *,
    dataset: str,
    epochs: int = 3,
    learning_rate: float = 1e-3,
):
    """Task 4: the student's three functions together on real images, to a real accuracy.

    The threshold depends on the dataset: 0.90 on MNIST, 0.78 on Fashion-MNIST (harder:
    shirts, pullovers and coats look alike at 28×28).
    """
    threshold = {"mnist": 0.90, "fashion-mnist": 0.78}[dataset]
    with Checker("Task 4 · train on " + {"mnist": "MNIST"}.get(dataset, "Fashion-MNIST")) as check:
        torch.manual_seed(0)
        model = check.call(build_model_function)
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        loss_fn = nn.CrossEntropyLoss()
        losses = []
        for _ in range(epochs):
            result = check.call(train_function, model, loaders.train, loss_fn, optimizer)
            losses.append(float(check.unpack(result, 2, what="(mean loss, accuracy)")[0]))
        accuracy = float(check.call(evaluate_function, model, loaders.test))
        if accuracy < threshold:
            check.fail(
                f"test accuracy {accuracy:.1%} after {epochs} epochs, below "
                f"{threshold:.0%} (training loss per epoch: "
                + ", ".join(f"{loss:.3f}" for loss in losses)
                + "). If tasks 1–3 pass, "
                "try more hidden units or check the learning rate."
            )
        check.summary = (
            f"test accuracy {accuracy:.0%} after {epochs} epochs "
            f"(at least {threshold:.0%} expected on this dataset)"
        )
    return check.report
