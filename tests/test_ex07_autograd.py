"""Exercise 7 (build your own autograd): its checks, the bridge to the stepper, and a
corpus of wrong answers per task, each failing with the message that names its mistake.

``Value`` below is a right micrograd-style engine, as a student would write it; each
wrong answer is a subclass that changes one method the way a student could get it wrong.
"""

from __future__ import annotations

import math
import random
import sys

import numpy as np
import pytest
import torch

from widgets.autodiff_bridge import is_foreign_value, mirror
from widgets.backprop import BackpropStepper
from widgets.checks import FAILED, NOT_DONE, PASSED
from widgets.checks import ex07_autograd as ex07
from widgets.checks.ex07_common import random_program, run_program, torch_gradients


# --------------------------------------------------------------------------- a right engine
class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._backward = lambda: None
        self.label = label

    def _wrap(self, other):
        return other if isinstance(other, Value) else type(self)(other)

    def _node(self, data, children, op, backward):
        out = type(self)(data, children, op)
        out._backward = lambda: backward(out)
        return out

    def __add__(self, other):
        other = self._wrap(other)

        def backward(out):
            self.grad += out.grad
            other.grad += out.grad

        return self._node(self.data + other.data, (self, other), "+", backward)

    def __radd__(self, other):
        return self + other

    def __mul__(self, other):
        other = self._wrap(other)

        def backward(out):
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        return self._node(self.data * other.data, (self, other), "*", backward)

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __pow__(self, k):
        def backward(out):
            self.grad += k * self.data ** (k - 1) * out.grad

        return self._node(self.data**k, (self,), f"**{k}", backward)

    def relu(self):
        def backward(out):
            self.grad += (self.data > 0) * out.grad

        return self._node(max(self.data, 0.0), (self,), "relu", backward)

    def exp(self):
        def backward(out):
            self.grad += out.data * out.grad

        return self._node(math.exp(self.data), (self,), "exp", backward)

    def tanh(self):
        def backward(out):
            self.grad += (1 - out.data**2) * out.grad

        return self._node(math.tanh(self.data), (self,), "tanh", backward)

    def log(self):
        def backward(out):
            self.grad += out.grad / self.data

        return self._node(math.log(self.data), (self,), "log", backward)

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node._prev:
                    visit(parent)
                order.append(node)

        visit(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class Net:
    def __init__(self, n_in, n_hidden, seed=0, value=Value):
        rng = random.Random(seed)
        self.W1 = [[value(rng.gauss(0, 1)) for _ in range(n_in)] for _ in range(n_hidden)]
        self.b1 = [value(rng.gauss(0, 0.1)) for _ in range(n_hidden)]
        self.W2 = [[value(rng.gauss(0, 1 / math.sqrt(n_hidden))) for _ in range(n_hidden)]]
        self.b2 = [value(0.1)]

    def parameters(self):
        return [w for row in self.W1 + self.W2 for w in row] + self.b1 + self.b2

    def hidden(self, x):
        return [
            sum((w * xk for w, xk in zip(row, x, strict=True)), b).relu()
            for row, b in zip(self.W1, self.b1, strict=True)
        ]

    def __call__(self, x):
        return sum((w * h for w, h in zip(self.W2[0], self.hidden(x), strict=True)), self.b2[0])


def train(model, X, y, steps, batch_size, lr, seed=0, *, mean=True, sign=-1.0, as_value=False):
    rng = random.Random(seed)
    losses = []
    for _ in range(steps):
        batch = rng.sample(range(len(X)), batch_size)
        margins = [(1 - float(y[i]) * model(list(X[i]))).relu() for i in batch]
        loss = sum(margins, Value(0.0)) * (1 / batch_size if mean else 1)
        loss.backward()
        for parameter in model.parameters():
            parameter.data += sign * lr * parameter.grad
        losses.append(loss if as_value else loss.data)
    return losses


def assert_fails(report, *phrases):
    assert report.status == FAILED, report.text
    for phrase in phrases:
        assert phrase in report.text, f"{phrase!r} not in:\n{report.text}"


def assert_passes(report):
    assert report.status == PASSED, report.text


# --------------------------------------------------------------------------- the reference
def test_every_check_accepts_a_right_engine(capsys):
    for check in (ex07.add, ex07.power, ex07.relu_and_exp, ex07.backward, ex07.log):
        assert_passes(check(Value))
    assert_passes(ex07.two_layer_net(Net))
    assert_passes(ex07.train(train, Net))
    stepper = ex07.stepper(lambda: _one_point_loss(Net))
    assert isinstance(stepper, BackpropStepper)
    assert "✓ Your engine in the stepper" in capsys.readouterr().out


def test_the_checks_leave_the_global_generators_alone():
    random.seed(5)
    torch.manual_seed(5)
    np.random.seed(5)
    before = random.getstate(), torch.get_rng_state(), np.random.get_state()[1].copy()
    ex07.backward(Value)
    ex07.train(train, Net)
    assert random.getstate() == before[0]
    assert torch.equal(torch.get_rng_state(), before[1])
    assert np.array_equal(np.random.get_state()[1], before[2])


def test_random_expressions_reuse_nodes_and_agree_with_torch():
    rng = random.Random(0)
    for _ in range(20):
        program = random_program(rng)
        operands = [i for _, used, _ in program for i in used]
        assert len(operands) > len(set(operands))  # some node is used twice
        nodes = run_program(program, Value, lambda node, name: getattr(node, name)())
        nodes[-1].backward()
        value, grads = torch_gradients(program)
        leaves = [n for n, step in zip(nodes, program, strict=True) if step[0] == "leaf"]
        assert math.isclose(nodes[-1].data, value, rel_tol=1e-12)
        assert np.allclose([leaf.grad for leaf in leaves], grads, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- task 1
class AddReturnsNone(Value):
    def __add__(self, other):
        other = self._wrap(other)
        type(self)(self.data + other.data, (self, other), "+")


class AddReturnsFloat(Value):
    def __add__(self, other):
        return self.data + self._wrap(other).data


class AddInPlace(Value):
    def __add__(self, other):
        self.data += self._wrap(other).data
        return self


class AddForgetsChildren(Value):
    def __add__(self, other):
        other = self._wrap(other)

        def backward(out):
            self.grad += out.grad
            other.grad += out.grad

        return self._node(self.data + other.data, (), "+", backward)


class AddOverwrites(Value):
    def __add__(self, other):
        other = self._wrap(other)

        def backward(out):
            self.grad = out.grad
            other.grad = out.grad

        return self._node(self.data + other.data, (self, other), "+", backward)


class AddIgnoresUpstream(Value):
    def __add__(self, other):
        other = self._wrap(other)

        def backward(out):
            self.grad += 1.0
            other.grad += 1.0

        return self._node(self.data + other.data, (self, other), "+", backward)


class AddWithoutBackward(Value):
    def __add__(self, other):
        other = self._wrap(other)
        return type(self)(self.data + other.data, (self, other), "+")


class AddUnwrapped(Value):  # forgets to wrap a plain number
    def __add__(self, other):
        def backward(out):
            self.grad += out.grad
            other.grad += out.grad

        return self._node(self.data + other.data, (self, other), "+", backward)


class AddWithoutRadd(Value):
    def __radd__(self, other):
        return NotImplemented  # what Python does when the class has no __radd__


class AddNaN(Value):
    def __add__(self, other):
        return type(self)(float("nan"), (self, self._wrap(other)), "+")


class AddExits(Value):
    def __add__(self, other):
        sys.exit(1)


class AddNotDone(Value):
    def __add__(self, other):
        raise NotImplementedError("Task 1: a + b and its _backward")


@pytest.mark.parametrize(
    "engine, phrases",
    [
        (AddReturnsNone, ["returned None", "`return out`"]),
        (AddReturnsFloat, ["should give a new Value, got a float"]),
        (AddInPlace, ["returned one of its inputs"]),
        (AddForgetsChildren, ["does not remember its inputs"]),
        (AddOverwrites, ["replaced the gradient already there"]),
        (AddIgnoresUpstream, ["the factor out.grad"]),
        (AddWithoutBackward, ["did not change it"]),
        (
            AddUnwrapped,
            [
                "raised AttributeError",
                "line",
                "of __add__(): return self._node(self.data + other.data",
            ],
        ),
        (AddWithoutRadd, ["define __radd__"]),
        (AddNaN, ["is NaN"]),
        (AddExits, ["SystemExit", "of __add__(): sys.exit(1)", "exit() stops"]),
    ],
)
def test_task_1_rejects_each_wrong_addition(engine, phrases):
    assert_fails(ex07.add(engine), *phrases)


def test_task_1_explains_a_node_used_twice():
    class OverwritesOnlyTheSecond(Value):  # right for a + b, wrong for a + a
        def __add__(self, other):
            other = self._wrap(other)

            def backward(out):
                if self is other:
                    self.grad = 2 * out.grad - out.grad  # one contribution, assigned
                else:
                    self.grad += out.grad
                    other.grad += out.grad

            return self._node(self.data + other.data, (self, other), "+", backward)

    assert_fails(ex07.add(OverwritesOnlyTheSecond), "a + a", "used twice")


def test_task_1_says_not_done_for_a_stub():
    assert ex07.add(AddNotDone).status == NOT_DONE


def test_ctrl_c_in_student_code_is_not_swallowed():
    class Interrupted(Value):
        def backward(self):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ex07.backward(Interrupted)


# --------------------------------------------------------------------------- tasks 2 and 3
def _with(method_name, backward, op=None, value=None):
    """An engine whose unary ``method_name`` has another local rule, _op or value."""

    class Wrong(Value):
        pass

    right = getattr(Value, method_name)

    def method(self, *args):
        out = right(self, *args)
        if op is not None:
            out._op = op
        if value is not None:
            out.data = value(self.data, *args)
        out._backward = lambda: backward(self, out, *args)
        return out

    setattr(Wrong, method_name, method)
    return Wrong


def _adds(slope):
    def backward(node, out, *args):
        node.grad += slope(node.data, out.data, *args) * out.grad

    return backward


@pytest.mark.parametrize(
    "engine, phrases",
    [
        (_with("__pow__", _adds(lambda x, o, k: k * x**k)), ["drops by one"]),
        (_with("__pow__", _adds(lambda x, o, k: x ** (k - 1))), ["the factor k is missing"]),
        (
            _with("__pow__", _adds(lambda x, o, k: k * x ** (k - 1)), op="**"),
            ["the operation's name is '**'", "'**2' here"],
        ),
        (_with("__pow__", _adds(lambda x, o, k: 0), value=lambda x, k: x * k), ["expected 2.25"]),
    ],
)
def test_task_2_rejects_each_wrong_power(engine, phrases):
    assert_fails(ex07.power(engine), *phrases)


@pytest.mark.parametrize(
    "engine, phrases",
    [
        (_with("relu", _adds(lambda x, o: 1.0 if x >= 0 else 0.0)), ["at exactly 0"]),
        (_with("relu", _adds(lambda x, o: 0.0 if x > 0 else 1.0)), ["1 where x > 0"]),
        (_with("relu", _adds(lambda x, o: o)), ["relu(x) itself"]),
        (_with("exp", _adds(lambda x, o: x)), ["not x"]),
        (_with("exp", _adds(lambda x, o: x * math.exp(x - 1))), ["its own derivative"]),
        (_with("exp", _adds(lambda x, o: o), value=lambda x: math.nan), ["is NaN"]),
    ],
)
def test_task_3_rejects_each_wrong_relu_or_exp(engine, phrases):
    assert_fails(ex07.relu_and_exp(engine), *phrases)


def test_stretch_log_rejects_the_value_as_slope():
    assert_passes(ex07.log(Value))
    assert_fails(ex07.log(_with("log", _adds(lambda x, o: o))), "ln x itself")


# --------------------------------------------------------------------------- task 4
def _breadth_first(output):
    order, seen, queue = [], {id(output)}, [output]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for parent in node._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return order


class BreadthFirstOrder(Value):  # each node once, but not after all of its users
    def backward(self):
        order = _breadth_first(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in order:
            node._backward()


class NaiveRecursion(Value):  # runs a shared node once per path
    def backward(self):
        for node in _breadth_first(self):
            node.grad = 0.0
        self.grad = 1.0

        def push(node):
            node._backward()
            for parent in node._prev:
                push(parent)

        push(self)


class DirectInputsOnly(Value):
    def backward(self):
        self.grad = 1.0
        self._backward()


class NoReset(Value):
    def backward(self):
        order = list(reversed(_topological(self)))
        self.grad = 1.0
        for node in order:
            node._backward()


class NoSeed(Value):
    def backward(self):
        order = _topological(self)
        for node in order:
            node.grad = 0.0
        for node in reversed(order):
            node._backward()


class WrongTanhRule(Value):
    def tanh(self):
        out = super().tanh()
        out._backward = lambda: setattr(self, "grad", self.grad + out.grad)
        return out


class BackwardRaises(Value):
    def backward(self):
        order = _topological(self)
        order[0].gradient = order[1].grad / 0


def _topological(output):
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node._prev:
                visit(parent)
            order.append(node)

    visit(output)
    return order


@pytest.mark.parametrize(
    "engine, phrases",
    [
        (BreadthFirstOrder, ["not topological"]),
        (NaiveRecursion, ["more than once"]),
        (DirectInputsOnly, ["never ran the _backward of some nodes"]),
        (NoReset, ["a second backward() changed the gradients"]),
        (NoSeed, ["must be 1"]),
        (WrongTanhRule, ["look at the operations' _backward rules", "The expression: x1 ="]),
        (BackwardRaises, ["raised ZeroDivisionError", "of backward(): order[0].gradient"]),
    ],
)
def test_task_4_rejects_each_wrong_backward(engine, phrases):
    assert_fails(ex07.backward(engine), *phrases)


def test_task_4_never_prints_pytorchs_expected_gradient():
    report = ex07.backward(WrongTanhRule)
    assert "expected" not in report.text


# --------------------------------------------------------------------------- tasks 5 and 6
class NoHiddenRelu(Net):
    def hidden(self, x):
        return [
            sum((w * xk for w, xk in zip(row, x, strict=True)), b)
            for row, b in zip(self.W1, self.b1, strict=True)
        ]


class NoHiddenBias(Net):
    def hidden(self, x):
        return [
            sum((w * xk for w, xk in zip(row, x, strict=True)), Value(0.0)).relu()
            for row in self.W1
        ]


class ReturnsList(Net):
    def __call__(self, x):
        return [super().__call__(x)]


class TransposedWeights(Net):
    def hidden(self, x):
        return [
            sum((self.W1[k][j] * x[k] for k in range(len(x))), self.b1[j]).relu()
            for j in range(len(self.b1))
        ]


class UsesFloats(Net):  # computes the score outside the engine: no gradient reaches W1
    def __call__(self, x):
        hidden = [
            max(sum(w.data * xk for w, xk in zip(row, x, strict=True)) + b.data, 0)
            for row, b in zip(self.W1, self.b1, strict=True)
        ]
        return sum((w * h for w, h in zip(self.W2[0], hidden, strict=True)), self.b2[0])


@pytest.mark.parametrize(
    "network, phrases",
    [
        (NoHiddenRelu, ["relu is missing"]),
        (NoHiddenBias, ["biases b1 are missing"]),
        (ReturnsList, ["one Value (the score), got a list"]),
        (TransposedWeights, ["raised IndexError", "self.W1[k][j] * x[k]"]),
        (UsesFloats, ["with respect to W1 differs from PyTorch's"]),
    ],
)
def test_task_5_rejects_each_wrong_network(network, phrases):
    assert_fails(ex07.two_layer_net(network), *phrases)


@pytest.mark.parametrize(
    "options, phrases",
    [
        ({"sign": +1.0}, ["moved up the gradient"]),
        ({"sign": 0.0}, ["did not change"]),
        ({"mean": False}, ["the sum over the batch"]),
        ({"as_value": True}, ["numbers (the loss Value's .data), not Values"]),
    ],
)
def test_task_6_rejects_each_wrong_training_loop(options, phrases):
    def wrong(model, X, y, steps, batch_size, lr, seed=0):
        return train(model, X, y, steps, batch_size, lr, seed, **options)

    assert_fails(ex07.train(wrong, Net), *phrases)


def test_task_6_rejects_a_missing_return_and_a_short_list():
    assert_fails(ex07.train(lambda *args: None, Net), "one loss per step", "None")
    assert_fails(ex07.train(lambda *args: [0.5, 0.4], Net), "one loss per step")


# --------------------------------------------------------------------------- the stepper
def _one_point_loss(network, value=Value):
    tiny = network(2, 2, seed=3, value=value)
    return (1 - tiny([0.4, -0.3])).relu(), tiny.parameters()


def test_the_stepper_check_catches_a_wrong_rule_and_waits_for_a_stub(capsys):
    class WrongRelu(Value):
        def relu(self):
            out = super().relu()
            out._backward = lambda: setattr(self, "grad", self.grad + out.grad)  # slope 1
            return out

    # the stepper still comes back: its check column shows where the rule goes wrong
    assert isinstance(ex07.stepper(lambda: _one_point_loss(Net, WrongRelu)), BackpropStepper)
    assert "numerical check disagrees" in capsys.readouterr().out

    def not_done():
        raise NotImplementedError("Task 5: the score")

    assert ex07.stepper(not_done) is None
    assert "not done yet" in capsys.readouterr().out


# --------------------------------------------------------------------------- the bridge
def test_the_mirror_replays_a_foreign_engine_like_torch():
    rng = random.Random(1)
    for _ in range(5):
        program = random_program(rng)
        nodes = run_program(program, Value, lambda node, name: getattr(node, name)())
        leaves = [n for n, step in zip(nodes, program, strict=True) if step[0] == "leaf"]
        copies = {}
        output = mirror(nodes[-1], parameters=leaves, copies=copies)
        stepper = BackpropStepper(output)
        stepper.run_backward()
        _, want = torch_gradients(program)
        # a leaf the output does not depend on is not in the graph: its gradient is 0
        got = [
            stepper.tape.grad_of(copies[id(leaf)]) if id(leaf) in copies else 0.0 for leaf in leaves
        ]
        assert np.allclose(got, want, rtol=1e-10, atol=1e-12)
        assert all(
            stepper.tape.gradient_agrees(i) is not False for i in range(len(stepper.tape.nodes))
        )


def test_the_stepper_takes_a_foreign_value_and_updates_its_parameters():
    a, b = Value(2.0, label="a"), Value(-1.5, label="b")
    loss = (a * b + a).tanh() ** 2
    stepper = BackpropStepper(loss, parameters=[a, b])
    assert stepper.tape.names[:2] == ["a", "b"]
    stepper.tape.update()
    loss.backward()
    index = {name: i for i, name in enumerate(stepper.tape.names)}
    assert math.isclose(stepper.tape.values[index["a"]], 2.0 - 0.1 * a.grad, rel_tol=1e-12)
    assert "tanh" in stepper.tape.formula(len(stepper.tape.nodes) - 2)


def test_the_mirror_reads_the_students_rules_not_the_courses():
    class DoubledMul(Value):  # a wrong rule shows as ✗ in the stepper's check column
        def __mul__(self, other):
            out = super().__mul__(other)
            inner = out._backward
            out._backward = lambda: (inner(), inner())
            return out

    x = DoubledMul(1.5)
    stepper = BackpropStepper(x * x + 1.0)
    stepper.run_backward()
    assert stepper.tape.grad_of(stepper.tape.nodes[0]) == pytest.approx(2 * 2 * 1.5)
    assert stepper.tape.gradient_agrees(0) is False


def test_a_micrograd_style_set_of_inputs_and_unknown_operations():
    class SetEngine(Value):  # micrograd keeps _prev as a set: a + a remembers a once
        def _node(self, data, children, op, backward):
            out = super()._node(data, children, op, backward)
            out._prev = set(children)
            return out

    a = SetEngine(3.0)
    stepper = BackpropStepper((a + a) * a)
    stepper.run_backward()
    assert stepper.tape.grad_of(stepper.tape.nodes[0]) == pytest.approx(4 * 3.0)  # d(2a²)/da

    odd = Value(1.0) + 2.0
    odd._op = "sin"
    with pytest.raises(ValueError, match="cannot show the operation _op='sin'"):
        BackpropStepper(odd)
    with pytest.raises(TypeError, match="micrograd-style"):
        mirror(3.0)
    assert is_foreign_value(odd) and not is_foreign_value(mirror(Value(1.0) * 2))
