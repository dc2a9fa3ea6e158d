"""A complete neural network in NumPy: the one home of lesson 4's code.

Every layer has the same small interface, which the tests, the lesson and the
exercise checks rely on::

    out = layer.forward(x)               # (batch, n_in) -> (batch, n_out)
    grad_x = layer.backward(grad_out)    # dLoss/d(out) -> dLoss/dx; fills layer.grads
    layer.params, layer.grads            # dicts of arrays with the same keys ("W", "b");
                                         # empty for layers without parameters

A :class:`Sequential` model chains layers and has the same interface; a loss turns
the model's output into a number (``forward``) and starts backpropagation
(``backward``); an optimizer updates ``params`` in place from ``grads``.

Speed is part of the lesson, so the code follows four rules:

* float32 everywhere (half the memory traffic of float64, and BLAS runs twice as many
  float32 multiply-adds per instruction). Gradient checking is the exception: it needs
  float64, so every layer takes a ``dtype``.
* No allocation on the hot path: each layer writes into arrays it owns and reuses
  (``np.matmul(..., out=)``, ``np.maximum(..., out=)``). **The array a layer returns is
  overwritten by its next call**: copy it (``out.copy()``) to keep it.
* The softmax and the cross-entropy are one fused layer, whose gradient is simply
  ``(probabilities - one_hot) / batch``.
* Mini-batches are gathered into one reused buffer with ``np.take(..., out=)``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence

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
    """An (n_in, n_out) weight matrix drawn so that signals keep their scale layer after layer.

    ``"he"``: normal with std sqrt(2 / n_in), for ReLU layers (ReLU zeroes half the signal,
    so the variance is doubled to compensate). ``"xavier"``: uniform in +-sqrt(6 / (n_in + n_out)),
    i.e. variance 2 / (n_in + n_out), for tanh and sigmoid layers. A number: normal with that
    standard deviation (to show what a bad scale does).
    """
    rng = np.random.default_rng() if rng is None else rng
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
    return weights.astype(dtype)


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
    """A fully connected layer: ``out = x @ W + b`` with W of shape (n_in, n_out).

    Backward, for a batch x and the upstream gradient G = dLoss/d(out)::

        dW = x.T @ G        db = G.sum(axis=0)        dx = G @ W.T

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
        np.matmul(x, self.params["W"], out=out)
        out += self.params["b"]
        return out

    def backward(self, grad_output, input_grad: bool = True):
        """Fill ``grads`` and return dLoss/dx (``None`` with ``input_grad=False``).

        The first layer of a network does not need dx (nothing is learned below it),
        and skipping it saves one of the layer's two large matrix products.
        """
        _require_forward(self._x, "Dense")
        np.matmul(self._x.T, grad_output, out=self.grads["W"])
        np.sum(grad_output, axis=0, out=self.grads["b"])
        if not input_grad:
            return None
        grad_input = self._buffers.get("grad_input", self._x.shape, self.params["W"].dtype)
        np.matmul(grad_output, self.params["W"].T, out=grad_input)
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


def softmax(logits) -> np.ndarray:
    """Class probabilities from logits (rows sum to 1), stable for any logit size."""
    logits = np.asarray(logits)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


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


# --------------------------------------------------------------------------- optimizers
class Optimizer:
    """Updates ``params`` in place from ``grads`` (two lists of arrays in the same order).

    Every optimizer follows ``torch.optim``'s update formulas exactly, including
    ``weight_decay`` (an L2 penalty: ``weight_decay * param`` is added to the gradient).
    """

    def __init__(self, params, grads, lr: float, weight_decay: float = 0.0):
        self.params, self.grads = list(params), list(grads)
        if len(self.params) != len(self.grads):
            raise ValueError(
                f"got {len(self.params)} parameter arrays but {len(self.grads)} gradient arrays; "
                "pass model.parameters() and model.gradients()"
            )
        for index, (param, grad) in enumerate(zip(self.params, self.grads, strict=True)):
            if param.shape != grad.shape:
                raise ValueError(
                    f"parameter {index} has shape {param.shape} but its gradient {grad.shape}"
                )
        if lr <= 0:
            raise ValueError(f"the learning rate must be positive, got {lr!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.step_count = 0
        self._decayed_grads = (
            [np.empty_like(param) for param in self.params] if weight_decay else []
        )

    def step(self) -> None:
        self.step_count += 1
        for index, (param, grad) in enumerate(zip(self.params, self.grads, strict=True)):
            if self.weight_decay:  # into a buffer of its own: the model's gradient stays untouched
                decayed = self._decayed_grads[index]
                np.multiply(param, self.weight_decay, out=decayed)
                decayed += grad
                grad = decayed
            self._update(index, param, grad)

    def _update(self, index: int, param: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update")


class SGD(Optimizer):
    """Plain gradient descent: ``param -= lr * grad``."""

    def __init__(self, params, grads, lr: float = 0.01, weight_decay: float = 0.0):
        super().__init__(params, grads, lr, weight_decay)

    def _update(self, index, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """SGD with momentum, as ``torch.optim.SGD(momentum=...)``: a velocity that averages
    past gradients, ``v = momentum * v + grad; param -= lr * v`` (``nesterov`` looks ahead:
    ``param -= lr * (grad + momentum * v)``)."""

    def __init__(
        self,
        params,
        grads,
        lr: float = 0.01,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, grads, lr, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.velocity = [np.zeros_like(param) for param in self.params]

    def _update(self, index, param, grad):
        velocity = self.velocity[index]
        velocity *= self.momentum
        velocity += grad
        if self.nesterov:
            param -= self.lr * (grad + self.momentum * velocity)
        else:
            param -= self.lr * velocity


class RMSprop(Optimizer):
    """Divides each step by a running root-mean-square of the gradient, as
    ``torch.optim.RMSprop``: ``s = alpha * s + (1 - alpha) * grad^2;
    param -= lr * grad / (sqrt(s) + eps)``."""

    def __init__(
        self,
        params,
        grads,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, grads, lr, weight_decay)
        self.alpha, self.eps = float(alpha), float(eps)
        self.square_avg = [np.zeros_like(param) for param in self.params]
        self._scratch = [np.empty_like(param) for param in self.params]

    def _update(self, index, param, grad):
        square_avg, scratch = self.square_avg[index], self._scratch[index]
        square_avg *= self.alpha
        square_avg += (1.0 - self.alpha) * np.square(grad)
        np.sqrt(square_avg, out=scratch)
        scratch += self.eps
        np.divide(grad, scratch, out=scratch)
        scratch *= self.lr
        param -= scratch


class Adam(Optimizer):
    """Momentum and RMSprop together, with bias correction, as ``torch.optim.Adam``::

        m = beta1 * m + (1 - beta1) * grad          # mean of the gradient
        v = beta2 * v + (1 - beta2) * grad^2        # mean of its square
        param -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)

    The last line is computed as ``lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m /
    (sqrt(v) + eps * sqrt(1 - beta2^t))``, the same number with one pass over the
    parameters fewer.
    """

    def __init__(
        self,
        params,
        grads,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, grads, lr, weight_decay)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.mean = [np.zeros_like(param) for param in self.params]
        self.square_mean = [np.zeros_like(param) for param in self.params]
        self._scratch = [np.empty_like(param) for param in self.params]

    def _update(self, index, param, grad):
        mean, square_mean = self.mean[index], self.square_mean[index]
        scratch = self._scratch[index]
        t = self.step_count
        correction1 = 1.0 - self.beta1**t
        correction2_sqrt = math.sqrt(1.0 - self.beta2**t)

        mean *= self.beta1
        np.multiply(grad, 1.0 - self.beta1, out=scratch)
        mean += scratch

        square_mean *= self.beta2
        np.square(grad, out=scratch)
        scratch *= 1.0 - self.beta2
        square_mean += scratch

        np.sqrt(square_mean, out=scratch)
        scratch += self.eps * correction2_sqrt
        np.divide(mean, scratch, out=scratch)
        scratch *= self.lr * correction2_sqrt / correction1
        param -= scratch


OPTIMIZERS = {"SGD": SGD, "Momentum": Momentum, "RMSprop": RMSprop, "Adam": Adam}


# --------------------------------------------------------------------------- training
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
    on_epoch_end: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Train for ``epochs`` epochs, reshuffling every epoch; return one record per epoch.

    Each record has ``epoch`` (1-based), ``loss``, ``acc``, ``val_loss``, ``val_acc``
    (``None`` without ``validation_data``), ``lr`` and ``seconds``. ``lr_schedule(epoch)``
    (0-based) sets the learning rate before each epoch; ``on_epoch_end(record)`` is called
    after each one, e.g. to plot live.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    rng = np.random.default_rng() if rng is None else rng
    history = []
    for epoch in range(epochs):
        if lr_schedule is not None:
            optimizer.lr = float(lr_schedule(epoch))
        started = time.perf_counter()
        loss, acc = train_epoch(model, loss_fn, optimizer, X, y, batch_size=batch_size, rng=rng)
        val_loss = val_acc = None
        if validation_data is not None:
            val_loss, val_acc = evaluate(model, loss_fn, *validation_data)
        record = {
            "epoch": epoch + 1,
            "loss": loss,
            "acc": acc,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "lr": optimizer.lr,
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        if on_epoch_end is not None:
            on_epoch_end(record)
    return history


# --------------------------------------------------------------------------- checking
def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||): 0 for equal arrays, ~1e-7 or less for a correct float64
    gradient, 1 when they have nothing in common."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


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
    pristine = copy.deepcopy(layer)

    def forward_scalar(model, inputs):
        outputs = model.forward(inputs)
        if loss_fn is None:
            return float(np.sum(outputs * projection)), None
        loss = copy.deepcopy(loss_fn)
        return loss.forward(outputs, target), loss

    projection = None
    if loss_fn is None:
        projection = rng.standard_normal(copy.deepcopy(pristine).forward(x).shape)
    model = copy.deepcopy(pristine)
    _, loss = forward_scalar(model, x)
    grad_output = projection if loss is None else loss.backward()
    analytic = {"input": np.array(model.backward(grad_output), dtype=np.float64)}
    analytic.update({name: np.array(grad) for name, grad in model.grads.items()})

    errors = {}
    for name, array in arrays.items():
        count = min(array.size, entries_per_array)
        entries = rng.choice(array.size, size=count, replace=False)
        numeric = np.empty(count)
        for k, entry in enumerate(entries):
            values = []
            for shift in (eps, -eps):
                model = copy.deepcopy(pristine)
                inputs = x.copy()
                target_array = inputs if name == "input" else model.params[name]
                target_array.flat[entry] += shift
                values.append(forward_scalar(model, inputs)[0])
            numeric[k] = (values[0] - values[1]) / (2 * eps)
        errors[name] = relative_error(analytic[name].flat[entries], numeric)
    return errors
