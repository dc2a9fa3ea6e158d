"""Lesson 4's NumPy network, part 1: layers, losses and the ``Sequential`` model.

The interface, speed rules and float32 convention are described in
:mod:`widgets.numpy_nn`, the namespace lesson 4 imports as ``nn``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from widgets import activations

DTYPE = np.float32
INITS = ("he", "xavier")


# --------------------------------------------------------------------------- helpers
class _BufferPool:
    """Arrays a layer reuses from call to call, grown only when a larger batch arrives.

    A request for fewer rows than the pool holds returns a view of the first rows, so
    alternating batch sizes (the last, smaller batch of an epoch; evaluation batches)
    never reallocate.
    """

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        array = self._arrays.get(name)
        if (
            array is None
            or array.dtype != dtype
            or array.shape[1:] != shape[1:]
            or array.shape[0] < shape[0]
        ):
            array = np.empty(shape, dtype=dtype)
            self._arrays[name] = array
        return array[: shape[0]]


def _check_batch(x, n_features: int | None, layer: str) -> np.ndarray:
    """The input as a floating (batch, features) array, or a clear error saying how to fix it."""
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{layer} expects floating-point inputs, got dtype {x.dtype}; convert images with "
            "X.astype(np.float32) / 255"
        )
    if x.ndim != 2:
        raise ValueError(
            f"{layer} expects a 2-D batch of shape (batch, features), got shape {x.shape}; "
            "flatten images first with X.reshape(len(X), -1)"
        )
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(
            f"{layer} expects {n_features} features per example, got {x.shape[1]} "
            f"(input shape {x.shape})"
        )
    return x


def _require_forward(cache, layer: str) -> None:
    if cache is None:
        raise RuntimeError(f"{layer}.backward() was called before forward(): run forward first")


def init_weights(n_in: int, n_out: int, init="he", *, rng=None, dtype=DTYPE) -> np.ndarray:
    """An (n_out, n_in) weight matrix drawn so that signals keep their scale layer after layer.

    Row k holds unit k's n_in incoming weights, the layout of PyTorch's ``nn.Linear.weight``.
    ``"he"``: normal with std sqrt(2 / n_in), for ReLU layers (ReLU zeroes half the signal,
    so the variance is doubled to compensate). ``"xavier"``: uniform in +-sqrt(6 / (n_in + n_out)),
    i.e. variance 2 / (n_in + n_out), for tanh and sigmoid layers. A number: normal with that
    standard deviation (to show what a bad scale does).
    """
    rng = np.random.default_rng() if rng is None else rng
    # Drawn as (n_in, n_out) and stored transposed: a seed then gives the very networks whose
    # results the lessons measured (lessons/MARGINS.md); the distribution is the same.
    if init == "he":
        weights = rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)
    elif init == "xavier":
        limit = math.sqrt(6.0 / (n_in + n_out))
        weights = rng.uniform(-limit, limit, size=(n_in, n_out))
    elif isinstance(init, (int, float)) and not isinstance(init, bool) and init > 0:
        weights = rng.standard_normal((n_in, n_out)) * float(init)
    else:
        raise ValueError(
            f"init must be one of {INITS} or a positive standard deviation, not {init!r}"
        )
    return np.ascontiguousarray(weights.T, dtype=dtype)


# --------------------------------------------------------------------------- layers
class Layer:
    """What every layer has: ``params``/``grads`` dicts and a ``training`` flag.

    Subclasses implement ``forward(x)`` and ``backward(grad_output)``.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        self._buffers = _BufferPool()

    def __call__(self, x):
        return self.forward(x)

    def parameters(self) -> list[np.ndarray]:
        return list(self.params.values())

    def gradients(self) -> list[np.ndarray]:
        return [self.grads[name] for name in self.params]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Dense(Layer):
    """A fully connected layer: ``out = x @ W.T + b`` with W of shape (n_out, n_in).

    W's layout is PyTorch's ``nn.Linear.weight`` (and lesson 2's): row k holds the incoming
    weights of unit k, so weights copy between the two without a transpose.
    Backward, for a batch x and the upstream gradient G = dLoss/d(out)::

        dW = G.T @ x        db = G.sum(axis=0)        dx = G @ W

    ``grads`` are overwritten by each backward call (not accumulated), so there is no
    ``zero_grad`` to forget.
    """

    def __init__(self, n_in: int, n_out: int, *, rng=None, init="he", dtype=DTYPE):
        super().__init__()
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Dense needs a positive integer {name}, got {value!r}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.params = {
            "W": init_weights(n_in, n_out, init, rng=rng, dtype=dtype),
            "b": np.zeros(n_out, dtype=dtype),
        }
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self._x = None

    def forward(self, x):
        x = _check_batch(x, self.n_in, "Dense")
        self._x = x  # kept for backward: dW needs the input
        out = self._buffers.get("out", (len(x), self.n_out), self.params["W"].dtype)
        np.matmul(x, self.params["W"].T, out=out)  # a transposed view: BLAS reads it, no copy
        out += self.params["b"]
        return out

    def backward(self, grad_output, input_grad: bool = True):
        """Fill ``grads`` and return dLoss/dx (``None`` with ``input_grad=False``).

        The first layer of a network does not need dx (nothing is learned below it),
        and skipping it saves one of the layer's two large matrix products.
        """
        _require_forward(self._x, "Dense")
        np.matmul(grad_output.T, self._x, out=self.grads["W"])
        np.sum(grad_output, axis=0, out=self.grads["b"])
        if not input_grad:
            return None
        grad_input = self._buffers.get("grad_input", self._x.shape, self.params["W"].dtype)
        np.matmul(grad_output, self.params["W"], out=grad_input)
        return grad_input

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out})"


class ReLU(Layer):
    """max(x, 0); its gradient passes through where the input was positive and stops elsewhere.

    ``active`` (a boolean array) records which units were positive in the last forward
    pass, which is how the lesson finds dead units. The formula is ``activations.relu``,
    written into a reused buffer because it runs on every batch.
    """

    def __init__(self):
        super().__init__()
        self.active = None

    def forward(self, x):
        x = _check_batch(x, None, "ReLU")
        self.active = self._buffers.get("active", x.shape, bool)
        np.greater(x, 0, out=self.active)  # the derivative at exactly 0 is taken as 0, like torch
        out = self._buffers.get("out", x.shape, x.dtype)
        np.maximum(x, 0, out=out)
        return out

    def backward(self, grad_output):
        _require_forward(self.active, "ReLU")
        grad_input = self._buffers.get("grad_input", self.active.shape, grad_output.dtype)
        np.multiply(grad_output, self.active, out=grad_input)
        return grad_input


class Sigmoid(Layer):
    """1 / (1 + e^-x). Backward uses the output s itself: ds/dx = s (1 - s)."""

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, x):
        x = _check_batch(x, None, "Sigmoid")
        self._out = self._buffers.get("out", x.shape, x.dtype)
        self._out[...] = activations.sigmoid(x)
        return self._out

    def backward(self, grad_output):
        _require_forward(self._out, "Sigmoid")
        grad_input = self._buffers.get("grad_input", self._out.shape, self._out.dtype)
        np.subtract(1, self._out, out=grad_input)
        grad_input *= self._out
        grad_input *= grad_output
        return grad_input


class Tanh(Layer):
    """tanh(x). Backward uses the output t itself: dt/dx = 1 - t^2."""

    def __init__(self):
        super().__init__()
        self._out = None

    def forward(self, x):
        x = _check_batch(x, None, "Tanh")
        self._out = self._buffers.get("out", x.shape, x.dtype)
        self._out[...] = activations.tanh(x)
        return self._out

    def backward(self, grad_output):
        _require_forward(self._out, "Tanh")
        grad_input = self._buffers.get("grad_input", self._out.shape, self._out.dtype)
        np.square(self._out, out=grad_input)
        np.subtract(1, grad_input, out=grad_input)
        grad_input *= grad_output
        return grad_input


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p`` and scale the
    survivors by 1 / (1 - p), so evaluation (which keeps every unit) needs no rescaling.

    The mask comes from ``rng``; a copy of the layer (``copy.deepcopy``) draws the same
    masks, which is how the gradient checker holds the randomness still.
    """

    def __init__(self, p: float = 0.5, *, rng=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout probability p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng() if rng is None else rng
        self._mask = None

    def forward(self, x):
        x = _check_batch(x, None, "Dropout")
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        uniform = self._buffers.get("uniform", x.shape, x.dtype)
        self.rng.random(out=uniform, dtype=x.dtype)
        self._mask = self._buffers.get("mask", x.shape, x.dtype)
        np.greater_equal(uniform, self.p, out=self._mask, casting="unsafe")  # 1.0 keeps a unit
        self._mask *= 1.0 / (1.0 - self.p)
        out = self._buffers.get("out", x.shape, x.dtype)
        np.multiply(x, self._mask, out=out)
        return out

    def backward(self, grad_output):
        if self._mask is None:  # evaluation mode (or p == 0): the layer was the identity
            return grad_output
        grad_input = self._buffers.get("grad_input", self._mask.shape, self._mask.dtype)
        np.multiply(grad_output, self._mask, out=grad_input)
        return grad_input

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


# --------------------------------------------------------------------------- losses
class MSE:
    """Mean squared error over every element, like ``torch.nn.MSELoss()``."""

    def __init__(self):
        self._diff = None

    def forward(self, predictions, targets) -> float:
        predictions = np.asarray(predictions)
        targets = np.asarray(targets, dtype=predictions.dtype)
        if predictions.shape != targets.shape:
            raise ValueError(
                f"MSE needs predictions and targets of the same shape, got {predictions.shape} "
                f"and {targets.shape}; reshape targets with y.reshape(-1, 1) for one output"
            )
        self._diff = predictions - targets
        return float(np.mean(np.square(self._diff)))

    def backward(self) -> np.ndarray:
        _require_forward(self._diff, "MSE")
        return self._diff * (2.0 / self._diff.size)

    __call__ = forward


class SoftmaxCrossEntropy:
    """Softmax followed by cross-entropy, fused: the loss ``torch.nn.CrossEntropyLoss()`` computes.

    Forward, for logits z and integer labels y, with the row maximum subtracted first so
    that exp never overflows (softmax does not change when a constant is subtracted)::

        loss = mean_i( log(sum_j exp(z_ij - m_i)) - (z_iy - m_i) )

    Backward is the famous ``(softmax(z) - one_hot(y)) / batch``: the two layers' Jacobians
    multiplied out by hand, cheaper and more accurate than chaining them.
    """

    def __init__(self):
        self._buffers = _BufferPool()
        self.probabilities = None
        self._labels = None

    def forward(self, logits, labels) -> float:
        logits = _check_batch(logits, None, "SoftmaxCrossEntropy")
        labels = np.asarray(labels)
        n, n_classes = logits.shape
        if labels.dtype.kind not in "iu" or labels.shape != (n,):
            raise ValueError(
                f"SoftmaxCrossEntropy needs integer class labels of shape ({n},), got dtype "
                f"{labels.dtype} and shape {labels.shape} "
                "(one label per row of logits, not one-hot)"
            )
        if n and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(
                f"labels must lie in 0..{n_classes - 1} for {n_classes} logits per row, "
                f"got values from {labels.min()} to {labels.max()}"
            )
        rows = np.arange(n)
        probabilities = self._buffers.get("probabilities", logits.shape, logits.dtype)
        np.subtract(logits, logits.max(axis=1, keepdims=True), out=probabilities)
        true_class_logit = probabilities[rows, labels]  # z_iy - m_i, before exp overwrites it
        np.exp(probabilities, out=probabilities)
        row_sums = probabilities.sum(axis=1)
        loss = float(np.mean(np.log(row_sums) - true_class_logit))
        probabilities /= row_sums[:, None]
        self.probabilities, self._labels, self._rows = probabilities, labels, rows
        return loss

    def backward(self) -> np.ndarray:
        _require_forward(self.probabilities, "SoftmaxCrossEntropy")
        n = len(self._labels)
        grad = self._buffers.get("grad", self.probabilities.shape, self.probabilities.dtype)
        np.multiply(self.probabilities, 1.0 / n, out=grad)
        grad[self._rows, self._labels] -= 1.0 / n
        return grad

    __call__ = forward


def add_l1_gradient(params, grads, strength: float) -> None:
    """L1 regularisation: the penalty ``strength * sum(|param|)`` added to the loss.

    Its gradient, ``strength * sign(param)``, is added to each gradient in place; call this
    between ``model.backward(...)`` and ``optimizer.step()``. It is what PyTorch computes for
    ``loss + strength * sum(p.abs().sum() for p in model.parameters())`` (with sign(0) = 0).
    Unlike L2's ``weight_decay``, which shrinks a weight in proportion to its size, L1 pulls
    every weight towards zero by the same amount, so weights that matter little end up near
    zero and the network becomes sparse.
    """
    if strength < 0:
        raise ValueError(f"the L1 strength must be >= 0, got {strength!r}")
    for param, grad in zip(params, grads, strict=True):
        grad += np.sign(param) * grad.dtype.type(strength)


# --------------------------------------------------------------------------- model
class Sequential:
    """Layers applied one after the other; forward left to right, backward right to left.

    ``params`` and ``grads`` name every array ``"<layer index>.<name>"`` (e.g. ``"0.W"``),
    as PyTorch's ``state_dict`` does; ``parameters()`` and ``gradients()`` list them in
    the same order, which is what an optimizer takes.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for index, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(
                    f"layer {index} ({layer!r}) has no forward/backward methods; "
                    "build models from Dense, ReLU, Sigmoid, Tanh and Dropout"
                )
        self.layers = list(layers)
        self.training = True

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, grad_output, input_grad: bool = True):
        """Backpropagate; ``input_grad=False`` skips dLoss/dx of the first layer (training)."""
        for layer in reversed(self.layers[1:]):
            grad_output = layer.backward(grad_output)
        first = self.layers[0]
        if isinstance(first, Dense):
            return first.backward(grad_output, input_grad=input_grad)
        return first.backward(grad_output)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {
            f"{index}.{name}": value
            for index, layer in enumerate(self.layers)
            for name, value in getattr(layer, "params", {}).items()
        }

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {
            f"{index}.{name}": layer.grads[name]
            for index, layer in enumerate(self.layers)
            for name in getattr(layer, "params", {})
        }

    def parameters(self) -> list[np.ndarray]:
        return list(self.params.values())

    def gradients(self) -> list[np.ndarray]:
        return list(self.grads.values())

    def train(self):
        """Training mode: Dropout drops units."""
        return self._set_training(True)

    def eval(self):
        """Evaluation mode: Dropout keeps every unit."""
        return self._set_training(False)

    def _set_training(self, training: bool):
        self.training = training
        for layer in self.layers:
            layer.training = training
        return self

    def predict_logits(self, X, batch_size: int = 2000) -> np.ndarray:
        """The model's outputs for all of ``X`` in evaluation mode, as a new array."""
        was_training = self.training
        self.eval()
        try:
            outputs = [
                self.forward(X[start : start + batch_size]).copy()
                for start in range(0, len(X), batch_size)
            ]
        finally:
            self._set_training(was_training)
        return np.concatenate(outputs)

    def predict(self, X, batch_size: int = 2000) -> np.ndarray:
        """The predicted class of every row of ``X``."""
        return self.predict_logits(X, batch_size).argmax(axis=1)

    def __repr__(self) -> str:
        inner = ",\n".join(f"  ({index}) {layer!r}" for index, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


def mlp(
    sizes: Sequence[int],
    *,
    rng=None,
    activation: type = ReLU,
    init="he",
    dropout: float = 0.0,
    dtype=DTYPE,
) -> Sequential:
    """A multilayer perceptron, e.g. ``mlp([784, 256, 128, 10])``: Dense layers with an
    activation (and optional Dropout) between them, none after the last (it outputs logits)."""
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got {list(sizes)}")
    rng = np.random.default_rng() if rng is None else rng
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Dense(n_in, n_out, rng=rng, init=init, dtype=dtype))
        if index < len(sizes) - 2:
            layers.append(activation())
            if dropout:
                layers.append(Dropout(dropout, rng=rng))
    return Sequential(*layers)
