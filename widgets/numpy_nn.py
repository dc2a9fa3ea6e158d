"""A complete neural network in NumPy: lesson 4's namespace, imported as ``nn``.

The code lives in three files, all reachable from here as ``nn.<name>``:
:mod:`widgets.numpy_layers` (layers, losses, ``Sequential``, ``mlp``), this file (the
optimizers) and :mod:`widgets.numpy_training` (batches, ``fit``, ``gradient_check``).

Every layer has the same small interface, which the tests, the lesson and the
exercise checks rely on::

    out = layer.forward(x)               # (batch, n_in) -> (batch, n_out)
    grad_x = layer.backward(grad_out)    # dLoss/d(out) -> dLoss/dx; fills layer.grads
    layer.params, layer.grads            # dicts of arrays with the same keys ("W", "b");
                                         # empty for layers without parameters

A ``Dense`` layer's ``W`` has shape (n_out, n_in), one row per unit: the layout of
PyTorch's ``nn.Linear.weight`` and of lesson 2, so ``out = x @ W.T + b``.

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

import math
from collections.abc import Callable

import numpy as np

from widgets.activations import softmax
from widgets.numpy_layers import (
    DTYPE,
    INITS,
    MSE,
    Dense,
    Dropout,
    Layer,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    add_l1_gradient,
    init_weights,
    mlp,
)
from widgets.numpy_training import (
    evaluate,
    fit,
    gradient_check,
    iterate_minibatches,
    prepare_images,
    train_epoch,
)

__all__ = [
    "DTYPE",
    "INITS",
    "MSE",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "Dense",
    "Dropout",
    "Layer",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Tanh",
    "add_l1_gradient",
    "evaluate",
    "fit",
    "gradient_check",
    "init_weights",
    "iterate_minibatches",
    "mlp",
    "prepare_images",
    "softmax",
    "train_epoch",
]


# --------------------------------------------------------------------------- optimizers
def _hyperparameter(name: str, value, allowed: str, is_allowed: Callable[[float], bool]) -> float:
    """``value`` as a float when it is a finite number for which ``is_allowed`` holds.

    Anything else (NaN, infinities, negative rates, strings, None) raises ValueError naming
    the argument and the allowed range, as ``torch.optim`` does: a NaN learning rate would
    otherwise turn every weight into NaN at the first step, far from its cause.
    """
    try:
        number = float(value) if not isinstance(value, (str, bytes)) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and is_allowed(number)):
        raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}")
    return number


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
        self.lr = lr
        self.weight_decay = _hyperparameter(
            "weight_decay", weight_decay, ">= 0", lambda value: value >= 0
        )
        self.step_count = 0
        self._decayed_grads = (
            [np.empty_like(param) for param in self.params] if weight_decay else []
        )

    @property
    def lr(self) -> float:
        """The learning rate; setting it (a schedule does) checks it is positive and finite."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _hyperparameter(
            "the learning rate lr", value, "> 0 (positive)", lambda rate: rate > 0
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
        self.momentum = _hyperparameter("momentum", momentum, "in [0, 1)", lambda m: 0 <= m < 1)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs a momentum above 0 (as in torch.optim.SGD)")
        self.nesterov = bool(nesterov)
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
        self.alpha = _hyperparameter("alpha", alpha, "in [0, 1]", lambda a: 0 <= a <= 1)
        self.eps = _hyperparameter("eps", eps, ">= 0", lambda value: value >= 0)
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
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.beta1, self.beta2 = (
            _hyperparameter(f"betas[{i}]", beta, "in [0, 1)", lambda b: 0 <= b < 1)
            for i, beta in enumerate((beta1, beta2))
        )
        self.eps = _hyperparameter("eps", eps, ">= 0", lambda value: value >= 0)
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
