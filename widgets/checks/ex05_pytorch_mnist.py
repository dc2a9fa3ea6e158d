"""Checks for exercise 5, a PyTorch network for MNIST (or Fashion-MNIST).

Lesson 5 shows a plain training loop and an accuracy; the exercise asks for variants the
lesson did not show: a training loop with **gradient accumulation** (one optimizer step
per ``accumulate`` batches) and a **confusion matrix**. The expected values come from the
independent references below (private to the check, shown nowhere). A wrong loop is
diagnosed by replaying the plausible mistakes (a forgotten ``zero_grad`` or ``train()``,
a step per batch, an unscaled loss, a lost last group) and naming the one that matches.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from widgets import torch_training as reference
from widgets.checks import Checker, Hints, Mistake, check_claims

hint = Hints(
    {
        1: [
            "A multilayer perceptron: a linear map from the 784 pixels to some hidden units, a "
            "non-linearity, and a linear map to the 10 classes.",
            "Do not end with a softmax: the cross-entropy loss applies log-softmax itself and "
            "expects raw scores (logits).",
            "784 → Linear → 128 → ReLU → Linear → 10, chained in one container module.",
        ],
        2: [
            "Accumulating means: several backward passes add their gradients into .grad "
            "before one optimizer step uses them, as if the batches were one big batch.",
            "Gradients add up, so scale each batch's loss by 1/accumulate before backward; "
            "step (and then clear the gradients) after every `accumulate` batches, and once "
            "more after the last batch if a group is left over.",
            "For batch i = 0, 1, ...: backward(loss_i / k); if (i + 1) % k == 0 or i is the "
            "last: step, zero grads. Report Σ loss_i·n_i / Σ n_i with the unscaled loss_i.",
        ],
        3: [
            "Entry [t, p] counts the examples of true class t that the model predicted as p: "
            "the diagonal holds the right answers, one row per true class.",
            "Predict in evaluation mode and without building the graph, take the argmax of "
            "each row of logits, and add 1 at [target, prediction] for every example.",
            "counts = zeros(n, n, integer); for each example: counts[t, p] += 1 (a flat index "
            "t·n + p lets one bincount do a whole batch).",
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
        if model is None:
            check.fail("build_model() returned None. Did you forget the `return` statement?")
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
        dtypes = {p.dtype for p in model.parameters()}
        if dtypes != {torch.float32}:
            check.fail(
                f"the model's parameters are {', '.join(sorted(map(str, dtypes)))}, expected "
                "torch.float32, the dtype of the images: leave the layers' default dtype "
                "(no .double())."
            )
        model.eval()
        with torch.no_grad():
            outputs = check.call(model, _inputs(), case="a batch of 7 flattened images")
        if outputs is None:
            check.fail("the model returned None for a batch: does forward() `return`?")
        if not isinstance(outputs, torch.Tensor) or tuple(outputs.shape) != (7, 10):
            shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else outputs
            check.fail(
                f"for a batch of 7 flattened images, shape (7, 784), the output should have "
                f"shape (7, 10), one logit per class; got {shape}."
            )
        if not bool(torch.isfinite(outputs).all()):
            kind = "NaN" if bool(torch.isnan(outputs).any()) else "inf"
            check.fail(
                f"the model's outputs contain {kind} for ordinary inputs: check its "
                "parameters and forward() (a division by zero, a log of 0, NaN weights?)."
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
    """A small model with dropout and a loader of 5 batches, the last one short."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(70, 20, generator=generator)
    y = torch.randint(0, 4, (70,), generator=generator)
    loader = [(X[i : i + 16], y[i : i + 16]) for i in range(0, 70, 16)]  # 16, 16, 16, 16, 6
    torch.manual_seed(seed)
    model = reference.make_mlp([20, 16, 4], dropout=0.3)
    return model, loader


def _accumulating_loop(
    model,
    loader,
    loss_fn,
    optimizer,
    accumulate,
    *,
    zero_grad=True,
    train_mode=True,
    scale=True,
    last_step=True,
):
    """The reference (all flags on) and its plausible mistakes (one flag off)."""
    if train_mode:
        model.train()
    batches = list(loader)
    total_loss, correct, seen = 0.0, 0, 0
    if zero_grad:
        optimizer.zero_grad()
    for index, (inputs, targets) in enumerate(batches):
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        (loss / accumulate if scale else loss).backward()
        group_done = (index + 1) % accumulate == 0
        if group_done or (last_step and index == len(batches) - 1):
            optimizer.step()
            if zero_grad:
                optimizer.zero_grad()
        total_loss += loss.item() * len(targets)
        correct += int((outputs.argmax(dim=1) == targets).sum())
        seen += len(targets)
    return total_loss / seen, correct / seen


def _run(loop, model, loader, accumulate, *, check: Checker | None = None, case=None, **flags):
    model = copy.deepcopy(model)
    model.eval()  # the loop itself must switch to training mode
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    torch.manual_seed(1)  # the same dropout masks for every run
    if check is not None:
        result = check.call(loop, model, loader, loss_fn, optimizer, accumulate, case=case)
    else:
        result = loop(model, loader, loss_fn, optimizer, accumulate, **flags)
    return model, result


def _parameters(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


_LOOP_MISTAKES = [
    (
        {"zero_grad": False},
        "the gradients kept adding up from one group to the next: clear "
        "them after each optimizer step.",
    ),
    (
        {"train_mode": False},
        "the model stayed in evaluation mode (dropout off): switch it to "
        "training mode at the start of the epoch.",
    ),
    (
        {"scale": False},
        "each step used the *sum* of the group's gradients: divide each "
        "batch's loss by `accumulate` before backward, so a step sees their mean.",
    ),
    (
        {"last_step": False},
        "the last, incomplete group of batches was never used: take one "
        "more optimizer step after the last batch when gradients are left over.",
    ),
]


def train_one_epoch(student_function):
    """Task 2: one epoch with gradient accumulation, returning ``(mean loss, accuracy)``."""
    with Checker("Task 2 · train_one_epoch") as check:
        model, loader = _tiny_problem()
        for accumulate in (1, 2, 3):
            case = (
                f"accumulate={accumulate}, 5 batches (16, 16, 16, 16 and 6 examples), "
                "a model with dropout, SGD"
            )
            expected_model, (loss, accuracy) = _run(_accumulating_loop, model, loader, accumulate)
            got_model, got = _run(
                student_function, model, loader, accumulate, check=check, case=case
            )
            got_loss, got_accuracy = check.unpack(
                got, 2, what="the pair (mean loss, accuracy)", case=case
            )
            if torch.equal(_parameters(got_model), _parameters(model)):
                check.fail(
                    "the parameters did not change: the optimizer never took a step.", case=case
                )
            per_batch = _parameters(_run(_accumulating_loop, model, loader, 1)[0])
            mistakes = [
                Mistake(
                    _parameters(_run(_accumulating_loop, model, loader, accumulate, **flags)[0]),
                    why,
                )
                for flags, why in _LOOP_MISTAKES
            ]
            if accumulate > 1:
                mistakes.append(
                    Mistake(
                        per_batch,
                        "the optimizer stepped after every batch: "
                        f"step once per {accumulate} batches.",
                    )
                )
            check.expect(
                _parameters(got_model),
                _parameters(expected_model),
                what="the parameters after one epoch",
                case=case,
                mistakes=mistakes,
                atol=1e-5,
                show_expected=False,
            )
            check.expect(
                got_loss,
                loss,
                what="the mean loss",
                case=case,
                atol=1e-4,
                mistakes=[
                    Mistake(
                        loss / accumulate,
                        "this is the mean of the *scaled* losses: report "
                        "each batch's loss before dividing it by `accumulate`.",
                    ),
                ]
                if accumulate > 1
                else [],
            )
            check.expect(
                got_accuracy,
                accuracy,
                what="the accuracy",
                case=case,
                mistakes=[
                    Mistake(
                        accuracy * 70,
                        "this is the number of correct predictions: divide by the number of "
                        "examples.",
                    ),
                ],
            )
            check.passed_case()
        check.summary = (
            "the parameters, mean loss and accuracy match a gradient-accumulating loop for "
            "accumulate = 1, 2 and 3"
        )
    return check.report


def _confusion(model, loader, n_classes: int, *, eval_mode=True, transpose=False):
    if eval_mode:
        model.eval()
    counts = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    with torch.no_grad():
        for inputs, targets in loader:
            predictions = model(inputs).argmax(dim=1)
            for true, predicted in zip(targets.tolist(), predictions.tolist(), strict=True):
                counts[true, predicted] += 1
    return counts.T if transpose else counts


def _as_counts(check: Checker, got, n_classes: int, case: str) -> torch.Tensor:
    if got is None:
        check.fail("your function returned None. Did you forget the `return` statement?", case=case)
    if isinstance(got, torch.Tensor):
        table = got.detach().cpu()
    else:
        try:
            table = torch.as_tensor(np.asarray(got))
        except (TypeError, ValueError, RuntimeError):
            check.fail(f"expected a table of counts, got a {type(got).__name__}.", case=case)
    if table.is_floating_point() or table.is_complex() or table.dtype == torch.bool:
        check.fail(
            f"the confusion matrix should hold integer counts, got dtype {table.dtype}: count "
            "with an integer tensor (e.g. dtype torch.int64), do not normalise.",
            case=case,
        )
    if tuple(table.shape) != (n_classes, n_classes):
        check.fail(
            f"expected shape ({n_classes}, {n_classes}), one row and one column per class, "
            f"got {tuple(table.shape)}.",
            case=case,
        )
    return table


def confusion_matrix(student_function):
    """Task 3: counts of (true class, predicted class), in evaluation mode, no gradients."""
    with Checker("Task 3 · confusion_matrix") as check:
        model, loader = _tiny_problem(seed=2)
        n_examples = sum(len(y) for _, y in loader)
        for n_classes in (4, 6):
            case = f"a model with dropout, left in training mode, n_classes={n_classes}"
            expected = _confusion(copy.deepcopy(model), loader, n_classes)
            evaluated = copy.deepcopy(model)
            evaluated.train()
            before = _parameters(evaluated)
            torch.manual_seed(3)
            got = check.call(student_function, evaluated, loader, n_classes, case=case)
            if not torch.equal(before, _parameters(evaluated)):
                check.fail(
                    "evaluating changed the model's parameters: no optimizer step here.", case=case
                )
            if any(p.grad is not None for p in evaluated.parameters()):
                check.fail(
                    "evaluating computed gradients: evaluation only runs the model forward, "
                    "without building the autograd graph.",
                    case=case,
                )
            table = _as_counts(check, got, n_classes, case)
            if int(table.sum()) != n_examples:
                check.fail(
                    f"the counts add up to {int(table.sum())}, but the loader holds "
                    f"{n_examples} examples: each example adds exactly 1.",
                    case=case,
                )
            torch.manual_seed(3)
            dropout_on = _confusion(copy.deepcopy(model), loader, n_classes, eval_mode=False)
            check.expect(
                table,
                expected,
                what="the confusion matrix",
                case=case,
                show_expected=False,
                mistakes=[
                    Mistake(
                        expected.T,
                        "rows and columns are swapped: row = true class, column = predicted class.",
                    ),
                    Mistake(
                        dropout_on,
                        "dropout was still on while predicting: switch the model to "
                        "evaluation mode first.",
                    ),
                ],
            )
            check.passed_case()
        check.summary = "the counts match, in evaluation mode, for 4 and 6 classes"
    return check.report


def full_training(
    build_model_function,
    train_function,
    confusion_function,
    loaders,
    *,
    dataset: str,
    epochs: int = 3,
    lr: float = 1e-3,
    accumulate: int = 1,
):
    """Task 4: the student's three functions together on real images, to a real accuracy.

    The threshold depends on the dataset: 0.90 on MNIST, 0.78 on Fashion-MNIST (harder:
    shirts, pullovers and coats look alike at 28×28). Returns the report; its ``table``
    attribute holds the test set's confusion matrix (for the stretch task).
    """
    threshold = {"mnist": 0.90, "fashion-mnist": 0.78}[dataset]
    with Checker("Task 4 · train on " + {"mnist": "MNIST"}.get(dataset, "Fashion-MNIST")) as check:
        torch.manual_seed(0)
        model = check.call(build_model_function)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        losses = []
        for _ in range(epochs):
            result = check.call(
                train_function, model, loaders.train, loss_fn, optimizer, accumulate
            )
            losses.append(float(check.unpack(result, 2, what="(mean loss, accuracy)")[0]))
        if not all(math.isfinite(loss) for loss in losses):
            check.fail("the training loss became NaN or inf: the training diverged.")
        table = _as_counts(
            check, check.call(confusion_function, model, loaders.test, 10), 10, "the test set"
        )
        check.report.table = table
        accuracy = float(table.diagonal().sum()) / max(int(table.sum()), 1)
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


def hardest_class(experiment, claims):
    """Stretch (optional): the student's claims about the hardest class, re-measured."""
    return check_claims("Stretch · the hardest class", experiment, claims)
