"""Activation functions and their derivatives, in NumPy.

One home for lesson 1's activation plots, the perceptron widget's dropdown, the
NumPy network's layers and (for the output layer of a classifier) ``softmax``. Each
derivative is written in terms of the input ``z``.
"""

from __future__ import annotations

import numpy as np


def step(z):
    """Heaviside step: 1 where z >= 0, else 0 (the perceptron's original activation)."""
    return (np.asarray(z) >= 0).astype(float)


def step_derivative(z):
    """Zero everywhere (undefined at 0): why gradient descent cannot train a step unit."""
    return np.zeros_like(np.asarray(z, dtype=float))


def sigmoid(z):
    """1 / (1 + e^-z), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out


def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(np.asarray(z, dtype=float))


def tanh_derivative(z):
    return 1.0 - np.tanh(np.asarray(z, dtype=float)) ** 2


def relu(z):
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def relu_derivative(z):
    """1 where z > 0, else 0 (the convention PyTorch uses at exactly 0)."""
    return (np.asarray(z) > 0).astype(float)


def softmax(logits) -> np.ndarray:
    """Probabilities from logits along the last axis (each row sums to 1).

    Subtracting each row's maximum first keeps ``exp`` from overflowing and changes
    nothing else: softmax is unchanged when a constant is added to every logit.
    """
    logits = np.asarray(logits)
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(float)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


ACTIVATIONS = {
    "step": (step, step_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
}
