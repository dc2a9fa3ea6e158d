"""The scalar autodiff engine (widgets/autodiff.py), checked against PyTorch. Start reading here."""

import math

import pytest
import torch

from widgets.autodiff import Value, topological_order


def test_gradients_match_pytorch_on_an_expression_that_uses_every_operation():
    def expression(x, y, tanh, sigmoid, relu, exp, log):
        u = x * y + y**3 - x / 4  # subtraction and division are built from + × **
        v = tanh(u) + sigmoid(x - y) * relu(y - 0.5)
        w = exp(v / 2) + log(x * x + 1) - 1.5 / (v * v + 1)
        return w * u + u  # u is used twice: its gradients must add up

    x, y = Value(0.8), Value(-1.3)
    ours = expression(x, y, Value.tanh, Value.sigmoid, Value.relu, Value.exp, Value.log)
    ours.backward()

    xt, yt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.8, -1.3))
    theirs = expression(xt, yt, torch.tanh, torch.sigmoid, torch.relu, torch.exp, torch.log)
    theirs.backward()

    assert ours.data == pytest.approx(theirs.item(), rel=1e-12)
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12)
    assert y.grad == pytest.approx(yt.grad.item(), rel=1e-12)


def test_subtraction_and_division_are_derived_from_the_primitives():
    a, b = Value(3.0, "a"), Value(4.0, "b")
    result = (a - b) / b
    assert result.data == -0.25
    assert {node.op for node in topological_order(result) if not node.is_leaf} <= {"+", "*", "**"}
    result.backward()
    assert (a.grad, b.grad) == pytest.approx((1 / 4, -3 / 16))  # ∂/∂b (a−b)/b = −a/b²


def test_backward_resets_gradients_instead_of_adding_to_an_earlier_pass():
    x = Value(2.0)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad == 4.0


def test_sigmoid_does_not_overflow_and_relu_has_pytorchs_slope_at_zero():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    zero = Value(0.0)
    out = zero.relu()
    out.backward()
    assert zero.grad == 0.0  # torch.relu's gradient at exactly 0


def test_long_chains_do_not_hit_the_recursion_limit():
    x = Value(0.1, "x")
    y = x
    for _ in range(5000):
        y = y * 1.0001
    order = topological_order(y)
    assert order[0] is x and order[-1] is y
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000)


def test_bad_input_gets_a_clear_message():
    with pytest.raises(TypeError, match="real number"):
        Value("two")
    with pytest.raises(TypeError, match="already a Value"):
        Value(Value(1.0))
    with pytest.raises(ValueError, match="positive input"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="plain number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(TypeError, match="cannot combine a Value with str"):
        Value(1.0) - "x"
    assert math.isclose((Value(2.0) ** 0.5).data, math.sqrt(2))
