"""A small multilayer perceptron in matrix form, with backpropagation written by hand.

Lessons 2 and 3 teach this code, the exercise checks compare students' gradients with
it, and the tests re-derive every gradient with ``torch.autograd``. Conventions match
the lessons' notation and PyTorch's ``nn.Linear``:

* one example per **row**: a batch ``X`` has shape ``(n_examples, n_features)``;
* layer ``l`` has weights ``W`` of shape ``(n_out, n_in)`` and bias ``b`` of shape
  ``(n_out,)``, so for one example ``z = W a + b`` and for a batch ``Z = A Wᵀ + b``;
* ``delta`` is ``dL/dz`` of a layer, one row per example, so ``dL/dW = Σ δ aᵀ = Δᵀ A``
  and ``dL/db = Σ δ``.

Losses are averaged over the batch, exactly like ``torch.nn.functional.mse_loss`` and
``torch.nn.functional.cross_entropy``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from widgets.activations import ACTIVATIONS
from widgets.gradcheck import check_gradients


def _identity(z):
    return np.asarray(z, dtype=float)


def _identity_derivative(z):
    return np.ones_like(np.asarray(z, dtype=float))


# Hidden layers may use any of lesson 1's activations except the step (its derivative is
# zero, so backpropagation could not train it); the output layer may also be linear.
OUTPUT_ACTIVATIONS = {"identity": (_identity, _identity_derivative)}
TRAINABLE_ACTIVATIONS = {name: pair for name, pair in ACTIVATIONS.items() if name != "step"}


@dataclass
class Layer:
    """One fully connected layer: ``a_out = activation(W a_in + b)``."""

    W: np.ndarray  # (n_out, n_in)
    b: np.ndarray  # (n_out,)
    activation: str = "sigmoid"


@dataclass
class ForwardCache:
    """What the forward pass remembers for the backward pass.

    ``activations[0]`` is the input ``X``; ``activations[l + 1]`` is layer ``l``'s output.
    ``pre_activations[l]`` is layer ``l``'s ``Z`` (before its activation function).
    """

    activations: list[np.ndarray]
    pre_activations: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


def _activation_pair(name: str):
    table = {**TRAINABLE_ACTIVATIONS, **OUTPUT_ACTIVATIONS}
    if name not in table:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(table)} "
            "(the step function has zero gradient, so backpropagation cannot train it)"
        )
    return table[name]


def init_mlp(
    layer_sizes: list[int],
    *,
    hidden_activation: str = "tanh",
    output_activation: str = "identity",
    rng: np.random.Generator | None = None,
) -> list[Layer]:
    """Random layers for sizes like ``[2, 3, 1]`` (2 inputs, 3 hidden units, 1 output).

    Weights are drawn from N(0, 1/n_in) so that ``z`` starts with a variance near 1
    whatever the width (too large saturates sigmoid/tanh, too small makes gradients
    vanish); biases start at zero.
    """
    if len(layer_sizes) < 2 or any(int(size) < 1 for size in layer_sizes):
        raise ValueError(
            f"layer_sizes must list at least an input and an output size, all >= 1; "
            f"got {layer_sizes!r} (example: [2, 3, 1])"
        )
    _activation_pair(hidden_activation)
    _activation_pair(output_activation)
    rng = rng if rng is not None else np.random.default_rng(0)
    layers = []
    for index, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=True)):
        is_output = index == len(layer_sizes) - 2
        layers.append(
            Layer(
                W=rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)),
                b=np.zeros(n_out),
                activation=output_activation if is_output else hidden_activation,
            )
        )
    return layers


def mlp_forward(layers: list[Layer], X) -> ForwardCache:
    """Forward propagation: for each layer ``Z = A Wᵀ + b`` and ``A = activation(Z)``.

    Every shape is checked, so a mistake is reported where it happens rather than as a
    broadcasting surprise three layers later.
    """
    A = np.asarray(X, dtype=float)
    if A.ndim != 2:
        raise ValueError(
            f"X must be 2-D with one example per row, got shape {A.shape}; "
            "for a single example use x.reshape(1, -1)"
        )
    cache = ForwardCache(activations=[A], pre_activations=[])
    for index, layer in enumerate(layers):
        n_out, n_in = layer.W.shape
        if A.shape[1] != n_in:
            raise ValueError(
                f"layer {index} expects {n_in} inputs per example (W has shape {layer.W.shape}) "
                f"but receives {A.shape[1]} (its input has shape {A.shape})"
            )
        if layer.b.shape != (n_out,):
            raise ValueError(f"layer {index}: b must have shape ({n_out},), got {layer.b.shape}")
        activate, _ = _activation_pair(layer.activation)
        Z = A @ layer.W.T + layer.b
        A = activate(Z)
        assert Z.shape == A.shape == (cache.activations[0].shape[0], n_out)
        cache.pre_activations.append(Z)
        cache.activations.append(A)
    return cache


def mse_loss(predictions, targets) -> tuple[float, np.ndarray]:
    """Mean squared error over every entry, and its gradient ``dL/dpredictions``.

    ``L = mean((ŷ - y)²)``, so ``dL/dŷ = 2 (ŷ - y) / N`` with ``N`` the number of entries.
    """
    predictions = np.asarray(predictions, dtype=float)
    targets = np.asarray(targets, dtype=float)
    if predictions.shape != targets.shape:
        raise ValueError(
            f"predictions {predictions.shape} and targets {targets.shape} must have the same "
            "shape; for one output per example reshape targets with y.reshape(-1, 1)"
        )
    difference = predictions - targets
    return float(np.mean(difference**2)), 2.0 * difference / difference.size


def softmax_cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels, and ``dL/dlogits``.

    The gradient of softmax followed by cross-entropy simplifies to
    ``(softmax(logits) - one_hot(labels)) / n_examples``.
    """
    logits = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(
            f"logits must be (n_examples, n_classes) and labels (n_examples,) integers; got "
            f"{logits.shape} and {labels.shape}"
        )
    if (
        not np.issubdtype(labels.dtype, np.integer)
        or labels.min() < 0
        or labels.max() >= logits.shape[1]
    ):
        raise ValueError(
            f"labels must be integers in 0..{logits.shape[1] - 1}, got {labels[:5]}..."
        )
    n_examples = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probabilities[np.arange(n_examples), labels].mean()
    gradient = np.exp(log_probabilities)
    gradient[np.arange(n_examples), labels] -= 1.0
    return float(loss), gradient / n_examples


def binary_cross_entropy(probabilities, targets) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of sigmoid outputs ``p`` against 0/1 targets, and ``dL/dp``.

    ``L = -mean(y log p + (1 - y) log(1 - p))``, so ``dL/dp = (p - y) / (p (1 - p) N)``;
    through a sigmoid output (``dp/dz = p (1 - p)``) that becomes ``δ = (p - y) / N``.
    ``p`` is clipped to [1e-12, 1 - 1e-12] first, so a saturated output gives a large,
    finite loss instead of ``log(0)`` (PyTorch's ``binary_cross_entropy`` clamps too).
    """
    probabilities = np.asarray(probabilities, dtype=float)
    targets = np.asarray(targets, dtype=float)
    if probabilities.shape != targets.shape:
        raise ValueError(
            f"probabilities {probabilities.shape} and targets {targets.shape} must have the "
            "same shape; for one output per example reshape targets with y.reshape(-1, 1)"
        )
    if np.any((probabilities < 0) | (probabilities > 1)):
        raise ValueError(
            "binary cross-entropy needs probabilities in [0, 1]: give the output layer a "
            "sigmoid activation"
        )
    p = np.clip(probabilities, 1e-12, 1 - 1e-12)
    loss = -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    return float(loss), (p - targets) / (p * (1 - p) * p.size)


LOSSES = {
    "mse": mse_loss,
    "cross_entropy": softmax_cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
}


@dataclass
class LayerGradients:
    """Gradients of the loss for one layer; ``delta`` is ``dL/dZ`` (one row per example)."""

    W: np.ndarray
    b: np.ndarray
    delta: np.ndarray


def mlp_backward(layers: list[Layer], cache: ForwardCache, output_gradient) -> list[LayerGradients]:
    """Backpropagation in matrix form, from ``dL/d(output)`` back to every W and b.

    For the last layer down to the first::

        Δ      = dL/dA ⊙ activation'(Z)       (the layer's δ, one row per example)
        dL/dW  = Δᵀ A_prev                    (= Σ over examples of δ a_prevᵀ)
        dL/db  = Δ summed over examples
        dL/dA_prev = Δ W                      (the upstream gradient of the layer below)
    """
    upstream = np.asarray(output_gradient, dtype=float)
    if upstream.shape != cache.output.shape:
        raise ValueError(
            f"output_gradient must have the output's shape {cache.output.shape}, "
            f"got {upstream.shape}"
        )
    gradients: list[LayerGradients] = []
    for index in reversed(range(len(layers))):
        layer = layers[index]
        _, derivative = _activation_pair(layer.activation)
        Z = cache.pre_activations[index]
        A_prev = cache.activations[index]
        delta = upstream * derivative(Z)
        gradients.append(LayerGradients(W=delta.T @ A_prev, b=delta.sum(axis=0), delta=delta))
        upstream = delta @ layer.W
    gradients.reverse()
    return gradients


def mlp_loss(layers: list[Layer], X, targets, loss: str = "mse") -> float:
    """The loss of the network's output on ``(X, targets)``: a forward pass only."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[loss](mlp_forward(layers, X).output, targets)[0]


def mlp_loss_and_gradients(
    layers: list[Layer], X, targets, loss: str = "mse"
) -> tuple[float, list[LayerGradients]]:
    """One forward and one backward pass: the loss and every layer's gradients.

    ``targets`` are a float array shaped like the output for ``"mse"``, and integer class
    labels for ``"cross_entropy"`` (then the last layer's output are the logits).
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    cache = mlp_forward(layers, X)
    loss_value, output_gradient = LOSSES[loss](cache.output, targets)
    return loss_value, mlp_backward(layers, cache, output_gradient)


def gradient_descent_step(
    layers: list[Layer], gradients: list[LayerGradients], lr: float
):
    """Move every parameter a small step against its gradient: ``θ ← θ - η dL/dθ`` (in place)."""
    for layer, gradient in zip(layers, gradients, strict=True):
        layer.W -= lr * gradient.W
        layer.b -= lr * gradient.b


def train_mlp(
    layers: list[Layer],
    X,
    targets,
    *,
    loss: str = "mse",
    lr: float = 0.5,
    epochs: int = 1000,
) -> list[float]:
    """Full-batch gradient descent for ``epochs`` steps; returns the loss before each step."""
    history = []
    for _ in range(epochs):
        loss_value, gradients = mlp_loss_and_gradients(layers, X, targets, loss)
        gradient_descent_step(layers, gradients, lr)
        history.append(loss_value)
    return history


def predict_classes(layers: list[Layer], X) -> np.ndarray:
    """Class predictions: argmax of the outputs, or ``output > 0.5`` for a single output."""
    output = mlp_forward(layers, X).output
    if output.shape[1] == 1:
        threshold = 0.5 if layers[-1].activation == "sigmoid" else 0.0
        return (output[:, 0] > threshold).astype(np.int64)
    return output.argmax(axis=1)


def gradient_check(
    layers: list[Layer], X, targets, loss: str = "mse", epsilon: float = 1e-6
) -> dict[str, float]:
    """Relative error between backprop's and finite differences' gradient, per parameter.

    The checking itself is :func:`widgets.gradcheck.check_gradients`; this function only
    names each layer's arrays and their backprop gradients. Keys are ``"W1", "b1", "W2",
    ...`` (layers numbered from 1 as in the lessons). A correct implementation gives
    values below about 1e-7 in float64.
    """
    _, gradients = mlp_loss_and_gradients(layers, X, targets, loss)
    arrays, analytic = {}, {}
    for number, (layer, gradient) in enumerate(zip(layers, gradients, strict=True), start=1):
        arrays[f"W{number}"], analytic[f"W{number}"] = layer.W, gradient.W
        arrays[f"b{number}"], analytic[f"b{number}"] = layer.b, gradient.b
    return check_gradients(
        lambda: mlp_loss(layers, X, targets, loss), arrays, analytic, epsilon=epsilon
    )
