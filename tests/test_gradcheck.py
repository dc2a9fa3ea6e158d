"""The one gradient checker (widgets/gradcheck.py): finite differences and relative error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from widgets.activations import softmax
from widgets.gradcheck import (
    check_gradients,
    numerical_gradient,
    relative_error,
    relative_step,
    rounding_uncertainty,
    scalar_slope,
)
from widgets.mlp_by_hand import init_mlp, mlp_loss, mlp_loss_and_gradients


def test_the_gradient_check_catches_a_wrong_gradient():
    rng = np.random.default_rng(1)
    layers = init_mlp([2, 3, 1], hidden_activation="tanh", rng=rng)
    X, targets = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    _, gradients = mlp_loss_and_gradients(layers, X, targets)
    numerical = numerical_gradient(lambda: mlp_loss(layers, X, targets), layers[0].W)
    assert relative_error(gradients[0].W, numerical) < 1e-7
    wrong = gradients[0].W.copy()
    wrong[0, 0] += 0.1 * np.abs(wrong).max() + 0.01  # one slightly wrong entry
    assert relative_error(wrong, numerical) > 1e-3
    assert relative_error(gradients[0].W * 1.1, numerical) == pytest.approx(0.1 / 2.1, rel=1e-5)


def test_numerical_gradient_restores_the_parameters_exactly():
    array = np.array([[0.1, -0.7], [1e-3, 3.0]])
    original = array.copy()
    gradient = numerical_gradient(lambda: float(np.sum(array**2)), array)
    assert np.array_equal(array, original)
    np.testing.assert_allclose(gradient, 2 * original, rtol=1e-7)


def test_numerical_gradient_of_chosen_entries_and_integer_arrays():
    array = np.arange(6.0).reshape(2, 3)
    slopes = numerical_gradient(lambda: float(np.sum(array**3)), array, entries=[5, 1])
    np.testing.assert_allclose(slopes, [3 * 25.0, 3 * 1.0], rtol=1e-7)
    with pytest.raises(TypeError, match="floating point"):
        numerical_gradient(lambda: 0.0, np.arange(3))


def test_check_gradients_names_the_array_whose_gradient_is_wrong():
    weights, bias = np.array([0.5, -1.0, 2.0]), np.array([0.3])
    x = np.array([1.0, 2.0, -1.0])

    def loss():
        return float((weights @ x + bias[0]) ** 2)

    residual = weights @ x + bias[0]
    right = {"w": 2 * residual * x, "b": np.array([2 * residual])}
    errors = check_gradients(loss, {"w": weights, "b": bias}, right)
    assert max(errors.values()) < 1e-8
    wrong = {"w": 2 * residual * x, "b": np.array([residual])}  # forgot the factor 2
    errors = check_gradients(loss, {"w": weights, "b": bias}, wrong, entries_per_array=2)
    assert errors["w"] < 1e-8 and errors["b"] == pytest.approx(1 / 3)


def test_relative_error_of_scalars_and_zeros():
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(1.0, -1.0) == 1.0
    assert relative_error(2.0, 1.0) == pytest.approx(1 / 3)


def test_softmax_matches_pytorch_and_survives_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.5, 0.2, 0.1]])
    expected = torch.softmax(torch.tensor(logits), dim=-1).numpy()
    np.testing.assert_allclose(softmax(logits), expected, rtol=1e-12)
    assert softmax(np.float32([[1.0, 2.0]])).dtype == np.float32  # lesson 4 stays in float32


def test_scalar_slope_uses_a_relative_step_and_refuses_kinks_and_domain_edges():
    assert scalar_slope(lambda x: 2 * x, 1e11) == pytest.approx(2.0, rel=1e-9)
    assert scalar_slope(math.sqrt, 1e-7) == pytest.approx(0.5 / math.sqrt(1e-7), rel=1e-9)
    assert scalar_slope(lambda x: x * x, 0.0) == pytest.approx(0.0, abs=1e-9)  # smooth minimum
    assert scalar_slope(lambda x: max(x, 0.0), 0.0) is None  # ReLU's kink
    assert scalar_slope(abs, 0.0) is None
    assert scalar_slope(math.sqrt, 0.0) is None  # the nudge leaves the domain
    assert scalar_slope(math.log, 0.0) is None


def test_the_step_never_underflows_to_zero_so_a_subnormal_input_is_checked_like_zero():
    # Hypothesis found it: 1e-6 x 5e-324 is 0.0, and dividing by that step raised
    # ZeroDivisionError inside the stepper's check column
    tiny = 5e-324
    assert relative_step(tiny) == relative_step(0.0) == 1e-6
    assert rounding_uncertainty(1.0, tiny) == rounding_uncertainty(1.0, 0.0)
    assert scalar_slope(lambda x: 3.0 * x, tiny) == pytest.approx(3.0)
