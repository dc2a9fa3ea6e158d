"""Training and checking lesson 4's NumPy network: batches, epochs, ``fit``, gradient checks.

``fit`` has the same contract as PyTorch's :func:`widgets.torch_training.fit` (a
``monitor``, an ``on_epoch_end`` callback): both run :func:`widgets.fitting.run_epochs`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator

import numpy as np

from widgets.fitting import run_epochs
from widgets.gradcheck import check_gradients
from widgets.numpy_layers import DTYPE


def prepare_images(images) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 rows (N, 784) scaled to [0, 1], contiguous."""
    images = np.asarray(images)
    flat = images.reshape(len(images), -1)
    out = np.empty(flat.shape, dtype=DTYPE)
    np.multiply(flat, np.float32(1 / 255), out=out, casting="unsafe")
    return out


def iterate_minibatches(X, y, batch_size: int = 128, *, rng=None) -> Iterator[tuple]:
    """``(x_batch, y_batch)`` pairs covering ``X`` once, in a new random order when ``rng``
    is given (pass the same generator every epoch: each epoch reshuffles).

    Shuffled batches are gathered with ``np.take(..., out=)`` into one buffer that the
    next batch overwrites; shuffling never copies the whole data set.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = len(X)
    if rng is None:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]
        return
    order = rng.permutation(n)
    x_buffer = np.empty((min(batch_size, n), *X.shape[1:]), dtype=X.dtype)
    y_buffer = np.empty((min(batch_size, n), *y.shape[1:]), dtype=y.dtype)  # (n, 1) targets too
    for start in range(0, n, batch_size):
        indices = order[start : start + batch_size]
        size = len(indices)
        np.take(X, indices, axis=0, out=x_buffer[:size])
        np.take(y, indices, axis=0, out=y_buffer[:size])
        yield x_buffer[:size], y_buffer[:size]


def _is_classification(y) -> bool:
    return np.asarray(y).dtype.kind in "iu"


def train_epoch(model, loss_fn, optimizer, X, y, *, batch_size: int = 128, rng=None):
    """One pass over the training data; returns (mean loss, accuracy or None for regression).

    The accuracy is measured on the fly, in training mode, on each batch before its update.
    """
    model.train()
    total_loss, correct = 0.0, 0
    classification = _is_classification(y)
    for x_batch, y_batch in iterate_minibatches(X, y, batch_size, rng=rng):
        outputs = model.forward(x_batch)
        total_loss += loss_fn.forward(outputs, y_batch) * len(x_batch)
        if classification:
            correct += int(np.count_nonzero(outputs.argmax(axis=1) == y_batch))
        model.backward(loss_fn.backward(), input_grad=False)
        optimizer.step()
    return total_loss / len(X), (correct / len(X) if classification else None)


def evaluate(model, loss_fn, X, y, *, batch_size: int = 2000):
    """(mean loss, accuracy or None) on held-out data, in evaluation mode."""
    was_training = getattr(model, "training", True)
    model.eval()
    total_loss, correct = 0.0, 0
    classification = _is_classification(y)
    try:
        for x_batch, y_batch in iterate_minibatches(X, y, batch_size):
            outputs = model.forward(x_batch)
            total_loss += loss_fn.forward(outputs, y_batch) * len(x_batch)
            if classification:
                correct += int(np.count_nonzero(outputs.argmax(axis=1) == y_batch))
    finally:
        if was_training:
            model.train()
    return total_loss / len(X), (correct / len(X) if classification else None)


def fit(
    model,
    loss_fn,
    optimizer,
    X,
    y,
    *,
    epochs: int,
    batch_size: int = 128,
    rng=None,
    validation_data=None,
    lr_schedule: Callable[[int], float] | None = None,
    monitor=None,
    on_epoch_end: Callable[[dict], bool | None] | None = None,
) -> list[dict]:
    """Train for ``epochs`` epochs, reshuffling every epoch; return one record per epoch.

    Each record has ``epoch`` (1-based), ``loss``, ``acc``, ``val_loss``, ``val_acc``
    (``None`` without ``validation_data``), ``lr`` and ``seconds``. ``lr_schedule(epoch)``
    (0-based) sets the learning rate before each epoch. ``monitor`` and
    ``on_epoch_end(record)`` (return True to stop) work exactly as in PyTorch's
    :func:`widgets.torch_training.fit`: see :func:`widgets.fitting.run_epochs`.
    """
    rng = np.random.default_rng() if rng is None else rng

    def run_epoch(epoch: int) -> dict:
        if lr_schedule is not None:
            rate = lr_schedule(epoch - 1)
            try:
                optimizer.lr = float(rate)  # the optimizer refuses a rate that is not finite
            except (TypeError, ValueError) as error:
                raise ValueError(f"lr_schedule({epoch - 1}) returned {rate!r}: {error}") from None
        started = time.perf_counter()
        loss, acc = train_epoch(model, loss_fn, optimizer, X, y, batch_size=batch_size, rng=rng)
        val_loss = val_acc = None
        if validation_data is not None:
            val_loss, val_acc = evaluate(model, loss_fn, *validation_data)
        return {
            "epoch": epoch,
            "loss": loss,
            "acc": acc,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "lr": optimizer.lr,
            "seconds": time.perf_counter() - started,
        }

    return run_epochs(run_epoch, epochs, monitor=monitor, on_epoch_end=on_epoch_end)


# --------------------------------------------------------------------------- checking
def gradient_check(
    layer,
    x,
    *,
    loss_fn=None,
    target=None,
    eps: float = 1e-6,
    entries_per_array: int = 40,
    seed: int = 0,
) -> dict[str, float]:
    """Compare ``layer``'s backward with central finite differences; return relative errors.

    The checking itself is :func:`widgets.gradcheck.check_gradients` (lesson 3's); this
    function picks the scalar to differentiate and the arrays to nudge.

    ``layer`` is any object with ``forward``/``backward`` and ``params``/``grads`` (a layer or
    a :class:`Sequential`). Without ``loss_fn`` the scalar differentiated is
    ``sum(forward(x) * R)`` for a fixed random R, so every output counts. Each partial
    derivative is ``(f(w + eps) - f(w - eps)) / (2 eps)``, for at most ``entries_per_array``
    entries of the input and of each parameter. Every evaluation runs on a fresh copy of
    the layer, so Dropout draws the same mask each time. Needs float64: float32's rounding
    errors (~1e-7) divided by eps would drown the derivative.
    """
    x = np.asarray(x)
    arrays = {"input": x, **layer.params}
    for name, array in arrays.items():
        if array.dtype != np.float64:
            raise TypeError(
                f"gradient checking needs float64, but {name} is {array.dtype}: build layers "
                "with dtype=np.float64 and pass x.astype(np.float64)"
            )
    if (loss_fn is None) != (target is None):
        raise ValueError("pass both loss_fn and target, or neither")
    rng = np.random.default_rng(seed)
    # `probe` never runs: every evaluation runs a fresh copy of it, so Dropout draws the
    # same mask each time, while the checker perturbs probe's own arrays in place.
    probe = copy.deepcopy(layer)
    inputs = x.copy()

    def forward_scalar(model):
        outputs = model.forward(inputs)
        if loss_fn is None:
            return float(np.sum(outputs * projection)), None
        loss = copy.deepcopy(loss_fn)
        return loss.forward(outputs, target), loss

    projection = None
    if loss_fn is None:
        projection = rng.standard_normal(copy.deepcopy(probe).forward(inputs).shape)
    model = copy.deepcopy(probe)
    _, loss = forward_scalar(model)
    grad_output = projection if loss is None else loss.backward()
    analytic = {"input": np.array(model.backward(grad_output), dtype=np.float64)}
    analytic.update({name: np.array(grad) for name, grad in model.grads.items()})
    return check_gradients(
        lambda: forward_scalar(copy.deepcopy(probe))[0],
        {"input": inputs, **probe.params},
        analytic,
        epsilon=eps,
        entries_per_array=entries_per_array,
        rng=rng,
    )
