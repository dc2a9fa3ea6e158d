"""The matrix-form MLP of lessons 2 and 3: forward shapes, hand-written backprop against
torch.autograd, and the finite-difference gradient check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from widgets.mlp_by_hand import (
    binary_cross_entropy,
    gradient_check,
    init_mlp,
    mlp_forward,
    mlp_loss_and_gradients,
    mse_loss,
    predict_classes,
    softmax_cross_entropy,
    train_mlp,
)
from widgets.toy_data import make_gate

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
}


def torch_loss_and_gradients(layers, X, targets, loss):
    weights = [torch.tensor(layer.W, requires_grad=True) for layer in layers]
    biases = [torch.tensor(layer.b, requires_grad=True) for layer in layers]
    A = torch.tensor(X, dtype=torch.float64)
    for layer, W, b in zip(layers, weights, biases, strict=True):
        A = TORCH_ACTIVATIONS[layer.activation](A @ W.T + b)
    if loss == "mse":
        value = F.mse_loss(A, torch.tensor(targets, dtype=torch.float64))
    elif loss == "binary_cross_entropy":
        value = F.binary_cross_entropy(A, torch.tensor(targets, dtype=torch.float64))
    else:
        value = F.cross_entropy(A, torch.tensor(targets))
    value.backward()
    return value.item(), [
        (W.grad.numpy(), b.grad.numpy()) for W, b in zip(weights, biases, strict=True)
    ]


@pytest.mark.parametrize(
    ("sizes", "hidden", "output", "loss"),
    [
        ([2, 2, 1], "sigmoid", "sigmoid", "mse"),
        ([3, 5, 2], "tanh", "identity", "mse"),
        ([2, 8, 8, 3], "relu", "identity", "cross_entropy"),
        ([4, 6, 3], "sigmoid", "identity", "cross_entropy"),
        ([3, 4, 2], "tanh", "sigmoid", "binary_cross_entropy"),
    ],
)
def test_hand_written_backprop_matches_torch_autograd(sizes, hidden, output, loss):
    rng = np.random.default_rng(sum(sizes))
    layers = init_mlp(sizes, hidden_activation=hidden, output_activation=output, rng=rng)
    for layer in layers:  # non-zero biases, so that their gradients are really exercised
        layer.b = rng.normal(0, 0.3, layer.b.shape)
    X = rng.normal(size=(7, sizes[0]))
    if loss == "mse":
        targets = rng.normal(size=(7, sizes[-1]))
    elif loss == "binary_cross_entropy":
        targets = rng.integers(0, 2, (7, sizes[-1])).astype(float)
    else:
        targets = rng.integers(0, sizes[-1], 7)
    value, gradients = mlp_loss_and_gradients(layers, X, targets, loss)
    torch_value, torch_gradients = torch_loss_and_gradients(layers, X, targets, loss)
    assert value == pytest.approx(torch_value, rel=1e-12)
    for gradient, (dW, db) in zip(gradients, torch_gradients, strict=True):
        np.testing.assert_allclose(gradient.W, dW, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(gradient.b, db, rtol=1e-6, atol=1e-12)
    errors = gradient_check(layers, X, targets, loss)
    assert set(errors) == {f"{p}{n}" for n in range(1, len(sizes)) for p in "Wb"}
    assert max(errors.values()) < 1e-7, errors


def test_forward_keeps_every_intermediate_with_the_expected_shape():
    layers = init_mlp([2, 3, 4, 1], rng=np.random.default_rng(0))
    cache = mlp_forward(layers, np.ones((5, 2)))
    assert [A.shape for A in cache.activations] == [(5, 2), (5, 3), (5, 4), (5, 1)]
    assert [Z.shape for Z in cache.pre_activations] == [(5, 3), (5, 4), (5, 1)]
    assert cache.output is cache.activations[-1]
    assert [layer.W.shape for layer in layers] == [(3, 2), (4, 3), (1, 4)]


def test_losses_match_pytorch():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.5, 0.2, 0.1]])
    labels = np.array([0, 2])
    loss, _ = softmax_cross_entropy(logits, labels)
    assert loss == pytest.approx(F.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item())
    prediction, target = np.array([[0.2], [0.9]]), np.array([[0.0], [1.0]])
    assert mse_loss(prediction, target)[0] == pytest.approx(0.025)


def test_xor_is_learned_by_a_two_layer_network():
    X, y = make_gate("XOR")
    layers = init_mlp(
        [2, 2, 1],
        hidden_activation="sigmoid",
        output_activation="sigmoid",
        rng=np.random.default_rng(0),
    )
    history = train_mlp(layers, X, y.reshape(-1, 1), lr=2.0, epochs=3000)
    assert history[-1] < 0.01 < history[0]
    assert np.array_equal(predict_classes(layers, X), y)


def test_bad_input_gets_a_clear_message():
    layers = init_mlp([2, 3, 1], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="layer 0 expects 2 inputs per example"):
        mlp_forward(layers, np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"x.reshape\(1, -1\)"):
        mlp_forward(layers, np.ones(2))
    with pytest.raises(ValueError, match=r"y.reshape\(-1, 1\)"):
        mse_loss(np.ones((4, 1)), np.ones(4))
    with pytest.raises(ValueError, match="labels must be integers in 0..2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="step function has zero gradient"):
        init_mlp([2, 2], hidden_activation="step")
    with pytest.raises(ValueError, match="at least an input and an output"):
        init_mlp([2])
    with pytest.raises(ValueError, match="unknown loss"):
        mlp_loss_and_gradients(layers, np.ones((1, 2)), np.ones((1, 1)), loss="hinge")


def test_binary_cross_entropy_through_a_sigmoid_gives_p_minus_y_and_refuses_logits():
    layers = init_mlp([2, 3, 1], output_activation="sigmoid", rng=np.random.default_rng(3))
    X, y = make_gate("XOR")
    _, gradients = mlp_loss_and_gradients(layers, X, y.reshape(-1, 1), "binary_cross_entropy")
    p = mlp_forward(layers, X).output
    np.testing.assert_allclose(gradients[-1].delta, (p - y.reshape(-1, 1)) / 4, rtol=1e-10)
    with pytest.raises(ValueError, match="sigmoid"):
        binary_cross_entropy(np.array([[1.5]]), np.array([[1.0]]))
    saturated, _ = binary_cross_entropy(np.array([[0.0]]), np.array([[1.0]]))
    assert np.isfinite(saturated) and saturated > 20
