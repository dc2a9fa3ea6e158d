"""The standard PyTorch training and evaluation loops, in one place.

Lesson 5 teaches these functions (it shows their source with ``show_source``), lesson 6
and the exercises reuse them, and ``tests/test_torch_training.py`` checks them. They are
deliberately plain: a student should be able to read each one top to bottom.

* :func:`load_tensors` / :func:`make_loaders` turn an image dataset from
  :mod:`widgets.data` into normalised float tensors and ``DataLoader`` objects;
* :func:`make_mlp` builds a multilayer perceptron as an ``nn.Sequential``;
* :func:`train_one_epoch`, :func:`evaluate` and :func:`fit` are the loops, ``fit``
  optionally reporting to a :class:`widgets.monitor.TrainingMonitor` and stepping a
  learning-rate scheduler.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from widgets.data import load_numpy
from widgets.fitting import run_epochs

# --------------------------------------------------------------------------- data


def pixel_statistics(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the pixel values of uint8 ``images``, scaled to [0, 1].

    Computed on the *training* images only: the test images must be scaled with the same
    numbers, or the model would see a shifted input at test time.
    """
    images = np.asarray(images)
    mean = images.mean(dtype=np.float64)
    # Squares summed a block of rows at a time: one float64 copy of the whole set would be
    # 8x the uint8 images (376 MB for Fashion-MNIST), too much for a 2 GB Binder session.
    # The sums are of whole numbers below 2**53, so they are exact in any order.
    rows = images.reshape(len(images), -1) if images.ndim > 1 else images.reshape(1, -1)
    block = max(1, (1 << 18) // max(1, rows.shape[1]))  # about 2 MB of float64 at a time
    sum_of_squares = sum(
        float(np.square(rows[start : start + block], dtype=np.float64).sum())
        for start in range(0, len(rows), block)
    )
    variance = sum_of_squares / images.size - mean**2
    return float(mean / 255.0), float(np.sqrt(variance) / 255.0)


def load_tensors(
    name: str = "fashion-mnist",
    split: str = "train",
    *,
    limit: int | None = None,
    flatten: bool = True,
    statistics: tuple[float, float] | None = None,
    root: Path | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as normalised ``float32`` tensors and labels as ``int64`` tensors.

    Pixels are scaled to [0, 1], then standardised with ``statistics`` (mean, std); by
    default those of the full training split, so train and test share one scale.
    ``flatten=True`` gives ``(N, 784)`` rows for an MLP, ``False`` keeps ``(N, 1, 28, 28)``
    (channels first, as convolutions expect). ``limit`` keeps the first ``limit`` images
    (the files are already in random order). ``root`` is the data folder (default:
    :func:`widgets.data.data_root`).
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of images or None, got {limit!r}")
    images, labels = load_numpy(name, split, root)
    if statistics is None:
        train_images = images if split == "train" else load_numpy(name, "train", root)[0]
        statistics = pixel_statistics(train_images)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return _as_tensors(images, labels, statistics, flatten)


def _as_tensors(images, labels, statistics, flatten):
    if images.ndim not in (3, 4) or len(images) != len(labels):
        raise ValueError(
            f"expected N grey (N, H, W) or colour (N, H, W, C) images and N labels, got "
            f"images of shape {images.shape} and labels of shape {labels.shape}"
        )
    mean, std = statistics
    # In place: each full-size temporary is 188 MB for Fashion-MNIST (Binder has 2 GB).
    X = images.astype(np.float32)
    np.divide(X, np.float32(255.0), out=X)
    X = torch.from_numpy(X)
    X.sub_(mean).div_(std)
    if X.ndim == 3:  # grey images: add the channel axis convolutions expect
        X = X.unsqueeze(1)
    else:  # colour images are stored (N, H, W, C); PyTorch wants (N, C, H, W)
        X = X.permute(0, 3, 1, 2).contiguous()
    if flatten:
        X = X.reshape(len(X), -1)
    return X, torch.from_numpy(labels)


class Loaders(NamedTuple):
    """The data loaders of one experiment; ``validation`` is None when none was held out."""

    train: DataLoader
    validation: DataLoader | None
    test: DataLoader


def make_loaders(
    name: str = "fashion-mnist",
    *,
    batch_size: int = 128,
    train_size: int | None = None,
    validation_size: int = 0,
    test_size: int | None = None,
    flatten: bool = True,
    seed: int = 0,
    root: Path | str | None = None,
) -> Loaders:
    """Shuffled training batches and ordered validation/test batches of ``name``.

    ``train_size`` and ``test_size`` limit the number of images (``None``: all of them).
    ``validation_size`` images are held out from the *end* of the training split, so a
    model is never tuned on the test set. Shuffling uses its own seeded generator, so
    the batch order is the same on every run. ``root`` is the data folder, as in
    :func:`load_tensors`.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    if validation_size < 0:
        raise ValueError(f"validation_size must be >= 0, got {validation_size!r}")
    train_images, train_labels = load_numpy(name, "train", root)
    statistics = pixel_statistics(train_images)
    n_images = len(train_images)
    if validation_size >= n_images:
        raise ValueError(
            f"validation_size={validation_size} leaves no training images "
            f"(the training split has {n_images})"
        )
    # Slices of the uint8 images become float32 one part at a time, only the images used:
    # a slice of one full float32 tensor would keep all of it (188 MB) alive.
    kept = n_images - validation_size
    used = kept if train_size is None else min(train_size, kept)
    X, y = _as_tensors(train_images[:used], train_labels[:used], statistics, flatten)
    X_test, y_test = load_tensors(
        name, "test", limit=test_size, flatten=flatten, statistics=statistics, root=root
    )
    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(
        TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=generator
    )
    validation = None
    if validation_size:
        held_out = _as_tensors(train_images[kept:], train_labels[kept:], statistics, flatten)
        validation = DataLoader(TensorDataset(*held_out), batch_size=1024)
    test = DataLoader(TensorDataset(X_test, y_test), batch_size=1024)
    return Loaders(train, validation, test)


# --------------------------------------------------------------------------- models


def make_mlp(sizes: Sequence[int], dropout: float = 0.0, batch_norm: bool = False) -> nn.Sequential:
    """A multilayer perceptron: ``Linear`` layers with ReLU between them.

    ``sizes=[784, 128, 10]`` gives 784 inputs, one hidden layer of 128 units and 10
    outputs. The output layer has no activation: it returns logits, which is what
    ``nn.CrossEntropyLoss`` expects. Each hidden layer is
    ``Linear → [BatchNorm1d] → ReLU → [Dropout]``.
    """
    sizes = [int(size) for size in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            f"sizes must list at least an input and an output size, all >= 1; got {sizes!r} "
            "(example: [784, 128, 10])"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout is a probability in [0, 1), got {dropout!r}")
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        # A batch-norm layer has its own shift, so the Linear layer's bias would be redundant.
        layers.append(nn.Linear(n_in, n_out, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- loops


def _check_batch(inputs: torch.Tensor, targets: torch.Tensor) -> None:
    if len(inputs) != len(targets):
        raise ValueError(
            f"a batch has {len(inputs)} inputs but {len(targets)} targets; "
            "the loader must yield (inputs, targets) pairs of the same length"
        )


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    loss_fn,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str = "cpu",
) -> tuple[float, float]:
    """One pass over ``loader`` updating ``model``; returns (mean loss, accuracy).

    The five lines every PyTorch training loop has: forward, loss, ``zero_grad``,
    ``backward``, ``step``. The mean loss weights each batch by its size, so a small last
    batch counts for what it is. Accuracy assumes class logits (one column per class).
    """
    model.train()  # dropout and batch norm behave as in training
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, targets in loader:
        _check_batch(inputs, targets)
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        optimizer.zero_grad()  # gradients add up across backward() calls otherwise
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(targets)
        correct += (outputs.argmax(dim=1) == targets).sum().item()
        seen += len(targets)
    if seen == 0:
        raise ValueError("the training loader yielded no batches")
    return total_loss / seen, correct / seen


def evaluate(
    model: nn.Module, loader: Iterable, loss_fn, device: torch.device | str = "cpu"
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``loader``, without changing the model.

    ``model.eval()`` switches dropout off and makes batch norm use its running averages;
    ``torch.no_grad()`` skips building the autograd graph, which saves time and memory.
    The model is put back into training mode only if it was in it before.
    """
    was_training = model.training
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            _check_batch(inputs, targets)
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            total_loss += loss_fn(outputs, targets).item() * len(targets)
            correct += (outputs.argmax(dim=1) == targets).sum().item()
            seen += len(targets)
    model.train(was_training)
    if seen == 0:
        raise ValueError("the evaluation loader yielded no batches")
    return total_loss / seen, correct / seen


def fit(
    model: nn.Module,
    train_loader: Iterable,
    loss_fn,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    val_loader: Iterable | None = None,
    device: torch.device | str = "cpu",
    monitor=None,
    scheduler=None,
    on_epoch_end: Callable[[dict], bool | None] | None = None,
) -> list[dict]:
    """Train for ``epochs`` epochs and return the history, one plain dict per epoch.

    Each dict has ``epoch`` (1, 2, ...), ``loss``, ``acc``, ``lr`` and, with a
    ``val_loader``, ``val_loss`` and ``val_acc``. ``scheduler`` (any
    ``torch.optim.lr_scheduler``) is stepped once per epoch; ``ReduceLROnPlateau`` gets
    the validation loss (or the training loss without validation data).

    With a :class:`~widgets.monitor.TrainingMonitor`, every epoch is logged to it, its
    progress bar counts the epochs, training stops early when it flags a divergence with
    ``stop_on_divergence=True``, and an interrupt (Ctrl-C, the stop button) ends training
    cleanly: the history so far is returned and the model keeps its weights.
    ``on_epoch_end(record)`` is called after every epoch; returning True stops training
    (early stopping). NumPy's :func:`widgets.numpy_training.fit` has the same contract:
    both run :func:`widgets.fitting.run_epochs`.
    """
    model.to(device)

    def run_epoch(epoch: int) -> dict:
        return _run_epoch(
            model, train_loader, val_loader, loss_fn, optimizer, scheduler, device, epoch
        )

    return run_epochs(run_epoch, epochs, monitor=monitor, on_epoch_end=on_epoch_end)


def _run_epoch(model, train_loader, val_loader, loss_fn, optimizer, scheduler, device, epoch):
    lr = optimizer.param_groups[0]["lr"]  # the rate this epoch trains with
    loss, acc = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
    record = {"epoch": epoch, "loss": loss, "acc": acc}
    if val_loader is not None:
        record["val_loss"], record["val_acc"] = evaluate(model, val_loader, loss_fn, device)
    record["lr"] = lr
    if scheduler is not None:
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            watched = record.get("val_loss", loss)
            if math.isfinite(watched):
                scheduler.step(watched)
        else:
            scheduler.step()
    return record
