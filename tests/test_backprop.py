"""The backprop tape and the stepper widget, re-derived with torch.autograd.

The engine itself (``Value``) is tested in tests/test_autodiff.py."""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pytest
import torch

from widgets.autodiff import Value
from widgets.backprop import BackpropStepper
from widgets.backprop_network import scalar_network
from widgets.backprop_tape import BackpropTape
from widgets.mlp_by_hand import Layer, mlp_loss_and_gradients

TOLERANCE = 1e-6


def close(a: float, b: float, tolerance: float = TOLERANCE) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def random_expression(seed: int, n_leaves: int = 4, n_operations: int = 12):
    """The same random expression built twice: from Values and from float64 tensors.

    Operands are drawn from everything computed so far, so values are often reused (the
    case where gradients must accumulate). Inputs of exp, log and / are kept in ranges
    where they are finite and well conditioned.
    """
    rng = np.random.default_rng(seed)
    leaves = [
        Value(float(v), f"x{i}", parameter=True) for i, v in enumerate(rng.uniform(-2, 2, n_leaves))
    ]
    tensors = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for v in leaves]
    pool = list(zip(leaves, tensors, strict=True))
    for _ in range(n_operations):
        (a, ta), (b, tb) = (pool[i] for i in rng.integers(0, len(pool), size=2))
        operation = rng.choice(["+", "-", "*", "/", "tanh", "sigmoid", "relu", "exp", "log", "pow"])
        if operation == "+":
            pair = (a + b, ta + tb)
        elif operation == "-":
            pair = (a - b, ta - tb)
        elif operation == "*":
            pair = (a * b, ta * tb)
        elif operation == "/":
            pair = (a / (b**2 + 1.5), ta / (tb**2 + 1.5))
        elif operation == "tanh":
            pair = (a.tanh(), torch.tanh(ta))
        elif operation == "sigmoid":
            pair = (a.sigmoid(), torch.sigmoid(ta))
        elif operation == "relu":
            pair = ((a + 0.3).relu(), torch.relu(ta + 0.3))
        elif operation == "exp":
            pair = (a.tanh().exp(), torch.exp(torch.tanh(ta)))
        elif operation == "log":
            pair = ((a * a + 1).log(), torch.log(ta * ta + 1))
        else:
            pair = (a**3 - 2 * a, ta**3 - 2 * ta)
        pool.append(pair)
    output = pool[-1][0] + pool[-2][0] * pool[-3][0]
    torch_output = pool[-1][1] + pool[-2][1] * pool[-3][1]
    return leaves, tensors, output, torch_output


def state(tape: BackpropTape):
    return tape.position, list(tape.values), list(tape.grads)


@pytest.mark.parametrize("seed", range(12))
def test_stepping_to_the_end_gives_the_gradients_of_backward_and_of_torch(seed):
    leaves, tensors, output, torch_output = random_expression(seed)
    tape = BackpropTape(output)
    while tape.next():
        pass
    tape.prev()  # the last steps are updates, which change values but not gradients
    tape.run_backward()
    assert tape.phase == "update"

    output.backward()
    torch_output.backward()
    assert close(tape.value_of(output), torch_output.item())
    for node, grad in zip(tape.nodes, tape.grads, strict=True):
        assert grad == pytest.approx(node.grad, abs=1e-12), tape.names[tape.index[id(node)]]
    for leaf, tensor in zip(leaves, tensors, strict=True):
        if id(leaf) not in tape.index:  # this leaf was never used by the output
            assert tensor.grad is None
            continue
        assert close(tape.grad_of(leaf), tensor.grad.item()), (leaf.label, tape.grad_of(leaf))
        assert close(tape.numerical_grad_of(leaf), tensor.grad.item(), 1e-5)
        assert tape.relative_error(tape.index[id(leaf)]) < 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_prev_exactly_undoes_next_at_every_step(seed):
    tape = BackpropTape(random_expression(seed)[2], lr=0.05)
    start = state(tape)
    history = [start]
    while tape.next():
        before_next = history[-1]
        after_next = state(tape)
        tape.prev()
        assert state(tape) == before_next  # exact equality, not approximate
        tape.next()
        assert state(tape) == after_next
        history.append(after_next)
    assert tape.position == len(tape.steps)
    for expected in reversed(history[:-1]):
        assert tape.prev()
        assert state(tape) == expected
    assert not tape.prev()
    assert state(tape) == start


def test_a_value_used_twice_accumulates_both_contributions():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    e = (a * b).named("e")
    loss = (e + a).named("L")  # ∂L/∂a = b + 1 = -2
    tape = BackpropTape(loss)
    tape.run_backward()
    assert tape.grad_of(a) == -2.0
    writes_to_a = [s for s in tape.steps if s.phase == "backward" and s.node == tape.index[id(a)]]
    assert len(writes_to_a) == 2
    assert writes_to_a[0].before is None
    assert writes_to_a[1].before == writes_to_a[0].after
    assert "gradients add up" in writes_to_a[1].text
    # Halfway through, a's gradient is incomplete and no check is shown for it yet.
    tape.go_to(tape.steps.index(writes_to_a[0]) + 1)
    assert tape.relative_error(tape.index[id(a)]) is None


def test_each_backward_step_is_upstream_times_local_gradient():
    x = Value(0.5, "x")
    y = (x * x).tanh().named("y")
    tape = BackpropTape(y)
    tape.run_backward()
    for step in tape.steps:
        if step.phase == "backward" and step.source is not None:
            contribution = step.after - (step.before or 0.0)
            assert contribution == pytest.approx(step.upstream * step.local)
    assert tape.grad_of(x) == pytest.approx((1 - math.tanh(0.25) ** 2) * 2 * 0.5)


def test_forward_steps_fill_values_in_order_and_backward_waits_for_the_forward_pass():
    a, b = Value(1.5, "a"), Value(4.0, "b")
    loss = (a * b + b).named("L")
    tape = BackpropTape(loss)
    assert tape.value_of(loss) is None and tape.value_of(a) == 1.5
    assert tape.next() and tape.phase == "forward"
    tape.run_forward()
    assert tape.value_of(loss) == 10.0
    assert all(grad is None for grad in tape.grads)
    assert tape.next()
    assert tape.grad_of(loss) == 1.0  # the backward pass starts with ∂L/∂L = 1


def test_update_moves_each_parameter_against_its_gradient_and_leaves_the_graph_alone():
    w, x = Value(0.8, "w", parameter=True), Value(2.0, "x")
    loss = ((w * x - 1.0) ** 2).named("L")  # ∂L/∂w = 2 (wx - 1) x = 2.4
    tape = BackpropTape(loss, lr=0.1)
    tape.update()
    assert tape.value_of(w) == pytest.approx(0.8 - 0.1 * 2.4)
    assert tape.value_of(x) == 2.0  # not a parameter: never updated
    assert w.data == 0.8 and w.grad == 0.0  # the tape works on its own copy of the numbers
    tape.prev()
    assert tape.value_of(w) == 0.8


def network_params(sizes, seed):
    rng = np.random.default_rng(seed)
    weights = [
        rng.normal(0, 1, (n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    biases = [rng.normal(0, 0.5, n_out) for n_out in sizes[1:]]
    x = rng.uniform(-1, 1, sizes[0])
    y = rng.uniform(0, 1, sizes[-1])
    return x, y, weights, biases


@pytest.mark.parametrize(
    ("sizes", "activation", "seed"),
    [
        ([2, 2, 1], "sigmoid", 0),
        ([3, 4, 2], "tanh", 1),
        ([2, 3, 3, 1], "relu", 2),
        ([1, 2, 1], "tanh", 3),
    ],
)
def test_small_networks_match_torch_and_the_matrix_form(sizes, activation, seed):
    x, y, weights, biases = network_params(sizes, seed)
    network = scalar_network(x, list(y), weights, biases, activation=activation)
    stepper = BackpropStepper(network, lr=0.5)
    while stepper.tape.phase != "update":
        stepper.next()

    torch_weights = [torch.tensor(W, requires_grad=True) for W in weights]
    torch_biases = [torch.tensor(b, requires_grad=True) for b in biases]
    a = torch.tensor(x)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    for W, b in zip(torch_weights, torch_biases, strict=True):
        a = act(W @ a + b)
    loss = torch.mean((a - torch.tensor(y)) ** 2)
    loss.backward()
    tape = stepper.tape
    assert close(tape.value_of(network.loss), loss.item())
    for layer in range(len(weights)):
        for j, row in enumerate(network.weights[layer]):
            for k, w in enumerate(row):
                assert close(tape.grad_of(w), torch_weights[layer].grad[j, k].item())
        for j, b in enumerate(network.biases[layer]):
            assert close(tape.grad_of(b), torch_biases[layer].grad[j].item())

    # The layer-level δ of the stepper is the matrix form's δ of lesson 3.
    layers = [Layer(W.copy(), b.copy(), activation) for W, b in zip(weights, biases, strict=True)]
    _, gradients = mlp_loss_and_gradients(layers, x.reshape(1, -1), y.reshape(1, -1), "mse")
    for layer, gradient in enumerate(gradients):
        deltas = [tape.grad_of(z) for z in network.z[layer]]
        np.testing.assert_allclose(deltas, gradient.delta[0], rtol=1e-9, atol=1e-12)


def test_the_network_view_steps_one_layer_at_a_time():
    x, y, weights, biases = network_params([2, 2, 1], 0)
    network = scalar_network(x, y[0], weights, biases)
    stepper = BackpropStepper(network)
    assert repr(stepper) == "BackpropStepper(network view, step 0 of 8, phase: forward)"
    captions = []
    while stepper.next():
        captions.append(stepper.caption())
    # forward: 2 layers + loss; backward: loss + 2 layers; update: 2 layers
    assert len(captions) == 8
    assert "layer 1: z¹ = W¹x + b¹" in captions[0]
    assert "∂L/∂ŷ = 2(ŷ − y)" in captions[3]
    assert "δ² = ∂L/∂a² ⊙ sigmoid′(z²)" in captions[4] and "∂L/∂a¹ = W²ᵀ δ²" in captions[4]
    assert "∂L/∂W¹ = δ¹ xᵀ" in captions[5]
    assert "W¹ ← W¹ − η ∂L/∂W¹" in captions[6]
    # After layer 2's backward step, layer 2's weight gradients are known, layer 1's not yet.
    stepper.reset()
    for _ in range(5):
        stepper.next()
    assert all(stepper.tape.grad_of(w) is not None for w in network.weights[1][0])
    assert all(stepper.tape.grad_of(w) is None for row in network.weights[0] for w in row)


def current_keys(svg: str) -> list[str]:
    return re.findall(r'<g class="node current [a-z]+" data-key="([^"]+)"', svg)


def test_the_widget_buttons_drive_the_model_and_redraw():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    loss = (a * b + a).named("L")
    stepper = BackpropStepper(loss)
    view = stepper.widget
    buttons = stepper._buttons
    assert buttons["prev"].disabled
    shown = []
    for _ in range(4):
        buttons["next"].click()
        shown.append((current_keys(stepper._graph.value), stepper._caption.value))
    assert stepper.tape.position == 4
    assert all(len(keys) == 1 for keys, _ in shown)  # exactly one highlighted node per step
    assert len({caption for _, caption in shown}) == 4
    assert shown[0][0] != shown[1][0]
    buttons["prev"].click()
    assert stepper.tape.position == 3
    assert (current_keys(stepper._graph.value), stepper._caption.value) == shown[2]
    buttons["run_backward"].click()
    assert stepper.tape.grad_of(a) == -2.0
    assert "-2.0000" in stepper._table.value and "✓" in stepper._table.value
    buttons["update"].click()
    assert buttons["next"].disabled and stepper.tape.phase == "done"
    buttons["reset"].click()
    assert stepper.tape.position == 0 and current_keys(stepper._graph.value) == []
    assert view is stepper.widget


def test_the_static_fallback_is_a_png_next_to_the_widget_view():
    stepper = BackpropStepper((Value(1.0, "a") * Value(2.0, "b")).named("L"))
    stepper.run_forward()
    bundle = stepper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert bundle["text/plain"] == "BackpropStepper(graph view, step 1 of 4, phase: backward)"


def test_bad_input_gets_a_clear_message():
    with pytest.raises(TypeError, match="Value .* or a network"):
        BackpropStepper(3.0)
    with pytest.raises(ValueError, match="lr must be positive"):
        BackpropTape(Value(1.0) * 2, lr=0)
    with pytest.raises(ValueError, match="view must be"):
        BackpropStepper(Value(1.0) * 2, view="network")
    with pytest.raises(ValueError, match=r"layer 1: W must be \(2, 3\)"):
        scalar_network([1, 2, 3], 1.0, [[[1, 2], [3, 4]]], [[0, 0]])
    late = Value(1.0, "late", stage=2)
    with pytest.raises(ValueError, match="later stage"):
        BackpropTape((late * 2).named("early", stage=1))
    with pytest.raises(ValueError, match="not part of this graph"):
        BackpropTape(Value(1.0) * 2).grad_of(Value(3.0))


# ---------------------------------------------------------------------- issue 17: edge cases
def table_checks(stepper: BackpropStepper) -> list[str]:
    """The relative-error column of the stepper's table, one entry per row."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", stepper.widget.children[3].value)[1:]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)[4] for row in rows]


def lesson_3_graph(a_value: float):
    a, b, c = Value(a_value, "a"), Value(-1.5, "b"), Value(0.5, "c")
    return a, ((a * b + c) * a).named("L")


@pytest.mark.parametrize("a_value", [2.0, 1000.0, 1e5])
def test_the_check_passes_at_any_scale_of_the_inputs(a_value):
    _, loss = lesson_3_graph(a_value)
    stepper = BackpropStepper(loss)
    stepper.run_backward()
    checks = table_checks(stepper)
    assert len(checks) == 6 and all(check.endswith("✓") for check in checks), checks


def test_a_huge_input_still_gets_a_numerical_gradient():
    x = Value(1e11, "x")
    tape = BackpropTape((2 * x).named("L"))
    assert tape.numerical_grad_of(x) == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize(
    "build",
    [lambda: Value(1e-7, "x") ** 0.5, lambda: Value(5e-7, "x").log()],
    ids=["sqrt of 1e-7", "log of 5e-7"],
)
def test_tiny_inputs_near_a_domain_edge_are_checked_not_crashed(build):
    stepper = BackpropStepper(build().named("L"))
    stepper.run_backward()  # used to raise inside the button (complex numbers, log domain)
    assert all(check.endswith("✓") for check in table_checks(stepper))


@pytest.mark.parametrize(
    "build, expected_grad",
    [
        (lambda x: x**0.5, math.inf),  # a root at 0: infinitely steep, as PyTorch says
        (lambda x: x.relu(), 0.0),  # the kink of ReLU
    ],
    ids=["sqrt at 0", "relu at 0"],
)
def test_kinks_and_domain_edges_say_not_differentiable_here(build, expected_grad):
    x = Value(0.0, "x")
    stepper = BackpropStepper(build(x).named("L"))
    stepper.run_backward()
    assert stepper.tape.grad_of(x) == expected_grad
    assert stepper.tape.numerical_grad_of(x) is None
    assert table_checks(stepper)[0] == "not differentiable here"
    assert "✗" not in stepper.widget.children[3].value


def test_powers_outside_the_real_numbers_are_refused_clearly():
    with pytest.raises(ValueError, match="needs x >= 0"):
        Value(-4.0) ** 0.5
    with pytest.raises(ValueError, match="undefined at x = 0"):
        Value(0.0) ** -1
