"""Backpropagation one step at a time: a scalar autodiff engine and a step-through widget.

Three layers, each usable without the next:

* :class:`Value` — a scalar that remembers how it was computed (in the spirit of
  Karpathy's micrograd). ``loss.backward()`` fills ``.grad`` of every value it depends on.
* :class:`BackpropTape` — the model behind the widget. It records the forward pass node
  by node, the backward pass edge by edge (upstream gradient × local gradient, added into
  the parent's gradient) and the gradient-descent update of every parameter. Its methods
  ``next()``, ``prev()``, ``run_forward()``, ``run_backward()``, ``update()`` and
  ``reset()`` mirror the widget's buttons; the state after any step is a pure function of
  the step number, so ``prev()`` exactly undoes ``next()``.
* :class:`BackpropStepper` — the ipywidgets view: the graph (SVG, no Graphviz needed), the
  current step in words, and a table with backprop's and the numerical gradient.

:func:`scalar_network` builds a tiny multilayer perceptron out of ``Value`` s; its
stepper view draws neurons instead of single operations and steps layer by layer,
showing δ and the weight gradients in matrix form.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# --------------------------------------------------------------------------- the engine

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sup(number) -> str:
    return str(number).translate(_SUPERSCRIPTS)


def _sub(number) -> str:
    return str(number).translate(_SUBSCRIPTS)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    exp_x = math.exp(x)  # this form cannot overflow for very negative x
    return exp_x / (1.0 + exp_x)


@dataclass(frozen=True)
class Operation:
    """How one kind of node computes its value and its local gradients.

    ``forward(inputs, constant)`` returns the value; ``local_gradients(inputs, constant,
    output)`` returns ∂output/∂input for each input. ``template`` shows the formula, with
    ``{0}``, ``{1}`` for the inputs and ``{c}`` for the constant.
    """

    template: str
    forward: Callable[[Sequence[float], float | None], float]
    local_gradients: Callable[[Sequence[float], float | None, float], tuple[float, ...]]


def _relu_gradient(x: float) -> float:
    return 1.0 if x > 0 else 0.0  # PyTorch's convention at exactly 0


OPERATIONS: dict[str, Operation] = {
    "+": Operation("{0} + {1}", lambda v, c: v[0] + v[1], lambda v, c, out: (1.0, 1.0)),
    "-": Operation("{0} − {1}", lambda v, c: v[0] - v[1], lambda v, c, out: (1.0, -1.0)),
    "*": Operation("{0} × {1}", lambda v, c: v[0] * v[1], lambda v, c, out: (v[1], v[0])),
    "/": Operation(
        "{0} / {1}", lambda v, c: v[0] / v[1], lambda v, c, out: (1.0 / v[1], -v[0] / v[1] ** 2)
    ),
    "**": Operation("{0}^{c}", lambda v, c: v[0] ** c, lambda v, c, out: (c * v[0] ** (c - 1),)),
    "neg": Operation("−{0}", lambda v, c: -v[0], lambda v, c, out: (-1.0,)),
    "tanh": Operation("tanh({0})", lambda v, c: math.tanh(v[0]), lambda v, c, out: (1 - out**2,)),
    "sigmoid": Operation(
        "σ({0})", lambda v, c: _sigmoid(v[0]), lambda v, c, out: (out * (1 - out),)
    ),
    "relu": Operation(
        "relu({0})", lambda v, c: max(v[0], 0.0), lambda v, c, out: (_relu_gradient(v[0]),)
    ),
    "exp": Operation("exp({0})", lambda v, c: math.exp(v[0]), lambda v, c, out: (out,)),
    "log": Operation("log({0})", lambda v, c: math.log(v[0]), lambda v, c, out: (1.0 / v[0],)),
}


class Value:
    """A scalar node of a computational graph, with its value ``data`` and gradient ``grad``.

    Arithmetic with other ``Value`` s or plain numbers builds the graph as it computes::

        a = Value(2.0, "a"); b = Value(-3.0, "b")
        L = (a * b + a).tanh(); L.backward()   # now a.grad = ∂L/∂a, b.grad = ∂L/∂b

    ``parameter=True`` marks a value that gradient descent updates (a weight or a bias).
    ``stage`` groups nodes for the layer-by-layer view (0 = no grouping).
    """

    __slots__ = ("data", "grad", "label", "parents", "op", "constant", "parameter", "stage")

    def __init__(
        self,
        data: float,
        label: str = "",
        *,
        parameter: bool = False,
        stage: int = 0,
        _parents: tuple[Value, ...] = (),
        _op: str = "",
        _constant: float | None = None,
    ):
        if isinstance(data, Value):
            raise TypeError("Value(...) takes a number; the argument is already a Value")
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"Value needs a real number, got {data!r}") from None
        self.grad = 0.0
        self.label = label
        self.parents = _parents
        self.op = _op
        self.constant = _constant
        self.parameter = parameter
        self.stage = stage

    # -- building the graph
    @staticmethod
    def _lift(other) -> Value:
        if isinstance(other, Value):
            return other
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Value(other, f"{other:g}")
        raise TypeError(
            f"cannot combine a Value with {type(other).__name__}; use numbers or Values"
        )

    def _apply(self, op: str, *others: Value, constant: float | None = None) -> Value:
        parents = (self, *others)
        data = OPERATIONS[op].forward([p.data for p in parents], constant)
        return Value(data, _parents=parents, _op=op, _constant=constant)

    def __add__(self, other):
        return self._apply("+", self._lift(other))

    def __radd__(self, other):
        return self._lift(other)._apply("+", self)

    def __sub__(self, other):
        return self._apply("-", self._lift(other))

    def __rsub__(self, other):
        return self._lift(other)._apply("-", self)

    def __mul__(self, other):
        return self._apply("*", self._lift(other))

    def __rmul__(self, other):
        return self._lift(other)._apply("*", self)

    def __truediv__(self, other):
        return self._apply("/", self._lift(other))

    def __rtruediv__(self, other):
        return self._lift(other)._apply("/", self)

    def __neg__(self):
        return self._apply("neg")

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)) or isinstance(exponent, bool):
            raise TypeError("the exponent must be a plain number (x ** 2), not a Value")
        return self._apply("**", constant=float(exponent))

    def tanh(self):
        return self._apply("tanh")

    def sigmoid(self):
        return self._apply("sigmoid")

    def relu(self):
        return self._apply("relu")

    def exp(self):
        return self._apply("exp")

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got {self.data:g}")
        return self._apply("log")

    def named(self, label: str, stage: int | None = None) -> Value:
        """Give this node a name (and a stage) for displays; returns the node itself."""
        self.label = label
        if stage is not None:
            self.stage = stage
        return self

    # -- what it computes
    @property
    def is_leaf(self) -> bool:
        return not self.parents

    def local_gradients(self) -> tuple[float, ...]:
        """∂self/∂parent for each parent, at the current values."""
        if self.is_leaf:
            return ()
        operation = OPERATIONS[self.op]
        return operation.local_gradients([p.data for p in self.parents], self.constant, self.data)

    def backward(self) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Gradients are *added* into ``.grad`` (a node used twice receives two
        contributions), so they are reset to zero first, in the whole graph.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_gradients(), strict=True):
                parent.grad += node.grad * local

    def __repr__(self) -> str:
        name = f"{self.label}, " if self.label else ""
        return f"Value({name}data={self.data:.4g}, grad={self.grad:.4g})"


def topological_order(output: Value) -> list[Value]:
    """Every node ``output`` depends on, each after all of its parents (depth first)."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(output, False)]
    while stack:  # iterative, so that long chains cannot hit Python's recursion limit
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


# --------------------------------------------------------------------------- the tape (model)

FORWARD, BACKWARD, UPDATE = "forward", "backward", "update"


@dataclass(frozen=True)
class Step:
    """One recorded step: it sets ``node``'s value (forward, update) or gradient (backward).

    ``before`` and ``after`` are the exact numbers before and after the step (``None``
    means not computed yet). Backward steps also carry the node the gradient comes from
    (``source``), its gradient (``upstream``) and the local gradient ∂source/∂node.
    """

    phase: str
    node: int
    before: float | None
    after: float
    text: str
    stage: int = 0
    source: int | None = None
    upstream: float | None = None
    local: float | None = None


def format_number(value: float | None) -> str:
    """Numbers as the displays show them: 4 decimals, scientific when very large or small."""
    if value is None:
        return "·"
    value = float(value) + 0.0  # turns -0.0 into 0.0
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4f}"


class BackpropTape:
    """The recorded forward pass, backward pass and update of one output, with a cursor.

    ``position`` counts the steps applied so far (0 = only the inputs are known). The
    displayed numbers, ``values`` and ``grads``, are always exactly the state after
    ``position`` steps. With ``granularity="stage"`` one ``next()`` applies every step of
    one stage (a layer) of one phase at once.
    """

    def __init__(
        self,
        output: Value,
        *,
        learning_rate: float = 0.1,
        granularity: str = "node",
        epsilon: float = 1e-6,
    ):
        if not isinstance(output, Value):
            raise TypeError(
                f"BackpropTape needs the output Value of an expression, got {type(output).__name__}"
            )
        if granularity not in ("node", "stage"):
            raise ValueError(f"granularity must be 'node' or 'stage', got {granularity!r}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.output = output
        self.learning_rate = float(learning_rate)
        self.granularity = granularity
        self.nodes = self._stage_order(topological_order(output))
        self.index = {id(node): i for i, node in enumerate(self.nodes)}
        self.names = self._names()
        self._initial_values = [node.data if node.is_leaf else None for node in self.nodes]
        self.steps = self._record()
        self.numerical_grads = self._numerical_gradients(epsilon)
        self.grad_final_at = self._grad_final_positions()
        self.boundaries = self._boundaries()
        self.position = 0
        self.values = list(self._initial_values)
        self.grads: list[float | None] = [None] * len(self.nodes)

    # -- recording
    @staticmethod
    def _stage_order(order: list[Value]) -> list[Value]:
        """Sort by stage, keeping the depth-first order within a stage.

        The result is still a valid topological order as long as no node depends on a
        node of a later stage, which is checked here.
        """
        for node in order:
            for parent in node.parents:
                if parent.stage > node.stage:
                    raise ValueError(
                        f"node {node.label or node.op!r} (stage {node.stage}) depends on "
                        f"{parent.label or parent.op!r} of the later stage {parent.stage}; "
                        "stages must follow the direction of the computation"
                    )
        return sorted(order, key=lambda node: node.stage)  # sorted() is stable

    def _names(self) -> list[str]:
        names, unnamed = [], 0
        for node in self.nodes:
            if node.label:
                names.append(node.label)
            else:
                unnamed += 1
                names.append(f"n{_sub(unnamed)}")
        return names

    def formula(self, i: int) -> str:
        """Node ``i``'s formula in its parents' names, e.g. ``"a × b"``."""
        node = self.nodes[i]
        if node.is_leaf:
            return ""
        parent_names = [self.names[self.index[id(p)]] for p in node.parents]
        if node.op == "**" and node.constant.is_integer() and node.constant >= 0:
            return f"{parent_names[0]}{_sup(int(node.constant))}"  # x², not x^2
        constant = "" if node.constant is None else f"{node.constant:g}"
        return OPERATIONS[node.op].template.format(*parent_names, c=constant)

    def _evaluate(self, overrides: dict[int, float]) -> float:
        """Recompute the output from the leaves, with some node values replaced."""
        values: list[float] = []
        for i, node in enumerate(self.nodes):
            if i in overrides:
                values.append(overrides[i])
            elif node.is_leaf:
                values.append(node.data)
            else:
                inputs = [values[self.index[id(p)]] for p in node.parents]
                values.append(OPERATIONS[node.op].forward(inputs, node.constant))
        return values[self.index[id(self.output)]]

    def _record(self) -> list[Step]:
        steps: list[Step] = []
        values = list(self._initial_values)
        for i, node in enumerate(self.nodes):
            if node.is_leaf:
                continue
            operation = OPERATIONS[node.op]
            inputs = [values[self.index[id(p)]] for p in node.parents]
            values[i] = operation.forward(inputs, node.constant)
            numbers = operation.template.format(
                *(f"({format_number(v)})" if node.op == "**" else format_number(v) for v in inputs),
                c=f"{node.constant:g}" if node.op == "**" else "",
            )
            text = f"{self.names[i]} = {self.formula(i)} = {numbers} = {format_number(values[i])}"
            steps.append(Step(FORWARD, i, None, values[i], text, node.stage))
        self.forward_values: list[float] = values  # every node's value after the forward pass

        grads: list[float | None] = [None] * len(self.nodes)
        out = self.index[id(self.output)]
        grads[out] = 1.0
        name = self.names[out]
        steps.append(
            Step(
                BACKWARD,
                out,
                None,
                1.0,
                f"∂{name}/∂{name} = 1: the output's gradient with "
                "respect to itself starts the backward pass",
                self.output.stage,
            )
        )
        for i in reversed(range(len(self.nodes))):
            node = self.nodes[i]
            if node.is_leaf:
                continue
            inputs = [values[self.index[id(p)]] for p in node.parents]
            locals_ = OPERATIONS[node.op].local_gradients(inputs, node.constant, values[i])
            for parent, local in zip(node.parents, locals_, strict=True):
                j = self.index[id(parent)]
                upstream = grads[i]  # complete: every consumer of node i came before it
                contribution = upstream * local
                before = grads[j]
                after = contribution if before is None else before + contribution
                grads[j] = after
                steps.append(
                    Step(
                        BACKWARD,
                        j,
                        before,
                        after,
                        self._backward_text(i, j, upstream, local, before, after),
                        node.stage,
                        source=i,
                        upstream=upstream,
                        local=local,
                    )
                )

        for i, node in enumerate(self.nodes):
            if node.parameter:
                gradient = grads[i]
                after = node.data - self.learning_rate * gradient
                text = (
                    f"{self.names[i]} ← {self.names[i]} − η·∂L/∂{self.names[i]} = "
                    f"{format_number(node.data)} − {self.learning_rate:g} × "
                    f"{format_number(gradient)} = {format_number(after)}"
                )
                steps.append(Step(UPDATE, i, node.data, after, text, node.stage))
        return steps

    def _backward_text(self, i, j, upstream, local, before, after) -> str:
        source, target, out = self.names[i], self.names[j], self.names[self.index[id(self.output)]]
        text = (
            f"∂{out}/∂{target} += ∂{out}/∂{source} × ∂{source}/∂{target} = "
            f"{format_number(upstream)} × {format_number(local)} = "
            f"{format_number(upstream * local)}"
        )
        if before is None:
            return f"{text}   ({target}.grad = {format_number(after)})"
        return (
            f"{text}   ({target} is used more than once, so gradients add up: "
            f"{format_number(before)} + {format_number(upstream * local)} = {format_number(after)})"
        )

    def _numerical_gradients(self, epsilon: float) -> list[float]:
        """∂output/∂node by central differences, nudging each node's value in turn."""
        gradients = []
        for i, value in enumerate(self.forward_values):
            plus = self._evaluate({i: value + epsilon})
            minus = self._evaluate({i: value - epsilon})
            gradients.append((plus - minus) / (2 * epsilon))
        return gradients

    def _grad_final_positions(self) -> list[int | None]:
        """For each node, the position after which its gradient is complete."""
        final: list[int | None] = [None] * len(self.nodes)
        for position, step in enumerate(self.steps, start=1):
            if step.phase == BACKWARD:
                final[step.node] = position
        return final

    def _boundaries(self) -> list[int]:
        if self.granularity == "node":
            return list(range(len(self.steps) + 1))
        boundaries = [0]
        for position in range(1, len(self.steps)):
            previous, current = self.steps[position - 1], self.steps[position]
            if (previous.phase, previous.stage) != (current.phase, current.stage):
                boundaries.append(position)
        boundaries.append(len(self.steps))
        return boundaries

    # -- phase boundaries
    def _end_of(self, phase: str) -> int:
        order = (FORWARD, BACKWARD, UPDATE)
        keep = order[: order.index(phase) + 1]
        return sum(1 for step in self.steps if step.phase in keep)

    @property
    def phase(self) -> str:
        """``"forward"``, ``"backward"``, ``"update"`` or ``"done"``: what ``next()`` does."""
        if self.position == len(self.steps):
            return "done"
        return self.steps[self.position].phase

    @property
    def current_steps(self) -> list[Step]:
        """The steps the last ``next()`` applied (empty at the start)."""
        if self.position == 0:
            return []
        start = max(b for b in self.boundaries if b < self.position)
        return self.steps[start : self.position]

    # -- moving the cursor (one method per button)
    def go_to(self, position: int) -> None:
        """Apply or undo steps until exactly ``position`` steps are applied."""
        if not 0 <= position <= len(self.steps):
            raise ValueError(f"position must be between 0 and {len(self.steps)}, got {position}")
        while self.position < position:
            step = self.steps[self.position]
            target = self.grads if step.phase == BACKWARD else self.values
            target[step.node] = step.after
            self.position += 1
        while self.position > position:
            self.position -= 1
            step = self.steps[self.position]
            target = self.grads if step.phase == BACKWARD else self.values
            target[step.node] = step.before

    def next(self) -> bool:
        """One step forward (a node, or a whole stage); False when already at the end."""
        later = [b for b in self.boundaries if b > self.position]
        if not later:
            return False
        self.go_to(later[0])
        return True

    def prev(self) -> bool:
        """Undo the last ``next()`` exactly; False when already at the start."""
        earlier = [b for b in self.boundaries if b < self.position]
        if not earlier:
            return False
        self.go_to(earlier[-1])
        return True

    def run_forward(self) -> None:
        """Jump to the end of the forward pass: every value computed, no gradient yet."""
        self.go_to(self._end_of(FORWARD))

    def run_backward(self) -> None:
        """Jump to the end of the backward pass: every gradient computed."""
        self.go_to(self._end_of(BACKWARD))

    def update(self) -> None:
        """Jump to the end: every parameter moved by ``-learning_rate × gradient``."""
        self.go_to(len(self.steps))

    def reset(self) -> None:
        self.go_to(0)

    # -- reading the state
    def value_of(self, node: Value) -> float | None:
        return self.values[self._require(node)]

    def grad_of(self, node: Value) -> float | None:
        return self.grads[self._require(node)]

    def numerical_grad_of(self, node: Value) -> float:
        return self.numerical_grads[self._require(node)]

    def _require(self, node: Value) -> int:
        try:
            return self.index[id(node)]
        except KeyError:
            raise ValueError(f"{node!r} is not part of this graph") from None

    def relative_error(self, i: int) -> float | None:
        """|backprop − numerical| / (|backprop| + |numerical|), once node ``i``'s grad is final."""
        final = self.grad_final_at[i]
        if final is None or self.position < final:
            return None
        analytic, numerical = self.grads[i], self.numerical_grads[i]
        scale = abs(analytic) + abs(numerical)
        return 0.0 if scale == 0 else abs(analytic - numerical) / scale

    @property
    def step_count(self) -> int:
        """How many ``next()`` clicks lead from the start to the end."""
        return len(self.boundaries) - 1

    @property
    def step_number(self) -> int:
        """How many ``next()`` clicks lead from the start to the current position."""
        return sum(1 for boundary in self.boundaries if 0 < boundary <= self.position)

    def describe(self) -> str:
        """The last step in words (what the widget's caption shows)."""
        total, done = self.step_count, self.step_number
        if self.position == 0:
            return (
                f"Step 0 of {total}: only the inputs are known. Press Next to compute "
                "the first node."
            )
        last = self.current_steps[-1]
        heading = f"Step {done} of {total} · {last.phase}"
        if self.granularity == "stage" or len(self.current_steps) > 1:
            return heading + ": " + "; ".join(step.text for step in self.current_steps[-3:])
        return f"{heading}: {last.text}"

    def __repr__(self) -> str:
        return f"BackpropTape({len(self.nodes)} nodes, {len(self.steps)} steps, at {self.position})"


# --------------------------------------------------------------------------- a tiny network


@dataclass
class ScalarNetwork:
    """A multilayer perceptron made of ``Value`` s, for one example and an MSE loss.

    ``weights[l][j][k]`` connects unit k of layer l to unit j of layer l+1 (``W`` of the
    lessons, shape (n_out, n_in)); ``z[l][j]`` and ``a[l][j]`` are unit j's
    pre-activation and activation in layer l+1; ``a[-1]`` is the output ŷ.
    """

    inputs: list[Value]
    weights: list[list[list[Value]]]
    biases: list[list[Value]]
    z: list[list[Value]]
    a: list[list[Value]]
    targets: list[float]
    loss: Value
    activation: str

    @property
    def parameters(self) -> list[Value]:
        return [w for layer in self.weights for row in layer for w in row] + [
            b for layer in self.biases for b in layer
        ]


def scalar_network(
    x: Sequence[float],
    target: Sequence[float] | float,
    weights: Sequence,
    biases: Sequence,
    *,
    activation: str = "sigmoid",
) -> ScalarNetwork:
    """Build ``L = mean((ŷ − y)²)`` for one example through layers ``z = W a + b, a = act(z)``.

    ``weights`` and ``biases`` are nested lists (or NumPy arrays) per layer, shaped like the
    lessons' ``W`` (n_out, n_in) and ``b`` (n_out,). Every layer, the output included,
    uses ``activation`` ("sigmoid", "tanh" or "relu"). Names follow the lessons: layer
    numbers as superscripts, unit numbers (from 1) as subscripts.
    """
    if activation not in ("sigmoid", "tanh", "relu"):
        raise ValueError(f"activation must be 'sigmoid', 'tanh' or 'relu', got {activation!r}")
    targets = [float(t) for t in (target if isinstance(target, Sequence) else [target])]
    if len(weights) != len(biases) or not weights:
        raise ValueError("give one weight matrix and one bias vector per layer")
    inputs = [Value(v, f"x{_sub(k + 1)}", stage=1) for k, v in enumerate(x)]
    activations = inputs
    all_w, all_b, all_z, all_a = [], [], [], []
    for layer_number, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
        W = [[float(w) for w in row] for row in W]
        b = [float(v) for v in b]
        if any(len(row) != len(activations) for row in W) or len(b) != len(W):
            raise ValueError(
                f"layer {layer_number}: W must be ({len(b)}, {len(activations)}) to match "
                f"{len(activations)} inputs and {len(b)} biases, got rows of length "
                f"{[len(row) for row in W]}"
            )
        stage, sup = layer_number, _sup(layer_number)
        w_values = [
            [
                Value(w, f"w{sup}{_sub(j + 1)}{_sub(k + 1)}", parameter=True, stage=stage)
                for k, w in enumerate(row)
            ]
            for j, row in enumerate(W)
        ]
        b_values = [
            Value(v, f"b{sup}{_sub(j + 1)}", parameter=True, stage=stage) for j, v in enumerate(b)
        ]
        z_values, a_values = [], []
        for j, row in enumerate(w_values):
            total = None
            for k, (w, a_in) in enumerate(zip(row, activations, strict=True)):
                product = (w * a_in).named(f"{w.label}·{a_in.label}", stage)
                if total is None:
                    total = product
                else:
                    total = (total + product).named(f"Σ{sup}{_sub(j + 1)}{_sub(k + 1)}", stage)
            z = (total + b_values[j]).named(f"z{sup}{_sub(j + 1)}", stage)
            a = getattr(z, activation)().named(f"a{sup}{_sub(j + 1)}", stage)
            z_values.append(z)
            a_values.append(a)
        all_w.append(w_values)
        all_b.append(b_values)
        all_z.append(z_values)
        all_a.append(a_values)
        activations = a_values
    if len(targets) != len(activations):
        raise ValueError(f"the network has {len(activations)} outputs but {len(targets)} targets")
    loss_stage = len(weights) + 1
    squared = []
    for j, (prediction, y) in enumerate(zip(activations, targets, strict=True)):
        error = (prediction - Value(y, f"y{_sub(j + 1)}", stage=loss_stage)).named(
            f"e{_sub(j + 1)}", loss_stage
        )
        squared.append((error**2).named(f"e{_sub(j + 1)}²", loss_stage))
    total = squared[0]
    for term in squared[1:]:
        total = (total + term).named("Σe²", loss_stage)
    loss = (
        (total / len(squared)).named("L", loss_stage)
        if len(squared) > 1
        else total.named("L", loss_stage)
    )
    return ScalarNetwork(inputs, all_w, all_b, all_z, all_a, targets, loss, activation)


# --------------------------------------------------------------------------- drawing
# A scene is a list of boxes and arrows in pixel coordinates. The widget turns it into
# SVG (fast enough for every click); the static fallback turns the same scene into a
# PNG with matplotlib. Neither needs a system binary such as Graphviz.

STYLE_COLOURS = {  # fill, border
    "plain": ("#f6f6f6", "#9a9a9a"),
    "parameter": ("#e8f1fb", "#6d94c2"),
    FORWARD: ("#ffe08a", "#c99700"),
    BACKWARD: ("#ffb3a7", "#c0392b"),
    UPDATE: ("#b9f0c0", "#2e8b57"),
    "source": ("#ffe9e4", "#e07a6a"),
}
CURRENT_STYLES = (FORWARD, BACKWARD, UPDATE)
LINE_HEIGHT = 15
FONT_SIZE = 12


@dataclass
class Box:
    key: str
    x: float
    y: float
    width: float
    height: float
    lines: list[str]
    style: str = "plain"


@dataclass
class Arrow:
    """An edge; ``bend`` ≠ 0 curves it (as matplotlib's ``arc3`` does), so that an edge
    that skips columns arcs over the boxes in between instead of hiding behind them."""

    start: tuple[float, float]
    end: tuple[float, float]
    highlighted: bool = False
    label: str = ""
    bend: float = 0.0

    @property
    def control(self) -> tuple[float, float]:
        (x0, y0), (x1, y1) = self.start, self.end
        return ((x0 + x1) / 2 - self.bend * (y1 - y0), (y0 + y1) / 2 + self.bend * (x1 - x0))

    def point_at(self, t: float) -> tuple[float, float]:
        """The point a fraction ``t`` along the (quadratic Bézier) edge."""
        (x0, y0), (cx, cy), (x1, y1) = self.start, self.control, self.end
        u = 1 - t
        return (u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1)


@dataclass
class Scene:
    width: float
    height: float
    boxes: list[Box]
    arrows: list[Arrow]


def _columns(tape: BackpropTape) -> list[int]:
    """Column of each node: one right of its deepest parent; a leaf sits just left of its
    earliest consumer."""
    column = [0] * len(tape.nodes)
    for i, node in enumerate(tape.nodes):
        if not node.is_leaf:
            column[i] = 1 + max(column[tape.index[id(p)]] for p in node.parents)
    for i, node in enumerate(tape.nodes):
        if node.is_leaf:
            consumers = [
                column[j]
                for j, other in enumerate(tape.nodes)
                if any(p is node for p in other.parents)
            ]
            column[i] = max(min(consumers, default=1) - 1, 0)
    return column


def _rows(tape: BackpropTape, column: list[int]) -> list[float]:
    """Row of each node within its column, ordered so that edges cross rarely: a node
    sits near the average row of its neighbours in the columns already placed."""
    row = [0.0] * len(tape.nodes)
    members: dict[int, list[int]] = {}
    for i, c in enumerate(column):
        members.setdefault(c, []).append(i)
    children: dict[int, list[int]] = {i: [] for i in range(len(tape.nodes))}
    for i, node in enumerate(tape.nodes):
        for parent in node.parents:
            children[tape.index[id(parent)]].append(i)
    for i in range(len(tape.nodes)):  # first guess: the order of computation
        row[i] = float(members[column[i]].index(i))
    for _ in range(2):  # two sweeps, right to left then left to right, are plenty here
        for c in sorted(members, reverse=True):
            _order_column(members[c], row, lambda i: children[i])
        for c in sorted(members):
            _order_column(
                members[c], row, lambda i: [tape.index[id(p)] for p in tape.nodes[i].parents]
            )
    return row


def _order_column(nodes: list[int], row: list[float], neighbours) -> None:
    def centre(i: int) -> float:
        others = neighbours(i)
        return sum(row[j] for j in others) / len(others) if others else row[i]

    for new_row, i in enumerate(sorted(nodes, key=lambda i: (centre(i), row[i]))):
        row[i] = float(new_row)


def _current_marks(tape: BackpropTape) -> tuple[set[int], set[int], str]:
    """The nodes the last click wrote, the nodes their gradients came from, and the phase."""
    steps = tape.current_steps
    if not steps:
        return set(), set(), ""
    written = {step.node for step in steps}
    sources = {step.source for step in steps if step.source is not None} - written
    return written, sources, steps[-1].phase


def graph_scene(tape: BackpropTape) -> Scene:
    """Every node of the expression as a box: name and formula, value, gradient."""
    column = _columns(tape)
    width, height, gap_x, gap_y = 150, 3 * LINE_HEIGHT + 12, 46, 16
    row = _rows(tape, column)
    rows: dict[int, int] = {}
    for c in column:
        rows[c] = rows.get(c, 0) + 1
    top = 36  # room for edges that arc over a column
    positions = {
        i: (10 + column[i] * (width + gap_x), top + row[i] * (height + gap_y))
        for i in range(len(tape.nodes))
    }
    tallest = max(rows.values())
    for i, (x, y) in positions.items():  # centre each column vertically
        offset = (tallest - rows[column[i]]) * (height + gap_y) / 2
        positions[i] = (x, y + offset)
    written, sources, phase = _current_marks(tape)
    boxes = []
    for i, node in enumerate(tape.nodes):
        title = tape.names[i] + (f" = {tape.formula(i)}" if not node.is_leaf else "")
        style = "parameter" if node.parameter else "plain"
        if i in written:
            style = phase
        elif i in sources:
            style = "source"
        x, y = positions[i]
        boxes.append(
            Box(
                str(i),
                x,
                y,
                width,
                height,
                [
                    title,
                    f"value {format_number(tape.values[i])}",
                    f"grad  {format_number(tape.grads[i])}",
                ],
                style,
            )
        )
    highlighted_edges = {(s.node, s.source) for s in tape.current_steps if s.source is not None}
    arrows = []
    for i, node in enumerate(tape.nodes):
        for parent in node.parents:
            j = tape.index[id(parent)]
            (x0, y0), (x1, y1) = positions[j], positions[i]
            local = next(
                (s.local for s in tape.current_steps if s.node == j and s.source == i), None
            )
            arrows.append(
                Arrow(
                    (x0 + width, y0 + height / 2),
                    (x1, y1 + height / 2),
                    highlighted=(j, i) in highlighted_edges,
                    label="" if local is None else f"×{format_number(local)}",
                    bend=-0.25 if column[i] - column[j] > 1 else 0.0,
                )
            )
    total_width = 20 + (max(column) + 1) * (width + gap_x) - gap_x
    total_height = top + 10 + tallest * (height + gap_y) - gap_y
    return Scene(total_width, total_height, boxes, arrows)


def network_scene(network: ScalarNetwork, tape: BackpropTape) -> Scene:
    """Neurons in layers: z, a, b and δ inside each unit, w and ∂L/∂w on each connection."""
    width, gap_x, gap_y = 178, 120, 22
    steps = tape.current_steps
    stage = steps[-1].stage if steps else None
    phase = steps[-1].phase if steps else ""
    columns: list[list[tuple[str, list[str], bool, int]]] = []

    def fmt(node: Value, grad: bool = False) -> str:
        return format_number((tape.grad_of if grad else tape.value_of)(node))

    columns.append(
        [
            (x.label, [x.label, f"value {fmt(x)}", f"∂L/∂{x.label} {fmt(x, True)}"], False, 1)
            for x in network.inputs
        ]
    )
    symbol = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu"}[network.activation]
    for layer, (zs, activations, biases) in enumerate(
        zip(network.z, network.a, network.biases, strict=True), start=1
    ):
        columns.append(
            [
                (
                    a.label,
                    [
                        f"{a.label} = {symbol}({z.label})",
                        f"z {fmt(z)}  a {fmt(a)}",
                        f"{b.label} {fmt(b)}  ∂ {fmt(b, True)}",
                        f"δ = ∂L/∂z {fmt(z, True)}",
                    ],
                    True,
                    layer,
                )
                for z, a, b in zip(zs, activations, biases, strict=True)
            ]
        )
    loss_stage = len(network.weights) + 1
    targets = ", ".join(format_number(t) for t in network.targets)
    columns.append(
        [("L", ["L = mean((ŷ − y)²)", f"y {targets}", f"L {fmt(network.loss)}"], False, loss_stage)]
    )
    line_counts = [max(len(entry[1]) for entry in column) for column in columns]
    height = max(line_counts) * LINE_HEIGHT + 12
    tallest = max(len(column) for column in columns)
    boxes, centres = [], {}
    for c, column in enumerate(columns):
        offset = (tallest - len(column)) * (height + gap_y) / 2
        for r, (key, lines, is_unit, unit_stage) in enumerate(column):
            x = 10 + c * (width + gap_x)
            y = 10 + offset + r * (height + gap_y)
            style = "parameter" if is_unit else "plain"
            if unit_stage == stage and c > 0 or (c == 0 and stage == 1 and phase == BACKWARD):
                style = phase
            boxes.append(Box(key, x, y, width, height, lines, style))
            centres[key] = (x, y + height / 2)
    arrows = []
    previous = [x.label for x in network.inputs]
    for layer, (rows, activations) in enumerate(zip(network.weights, network.a, strict=True), 1):
        for j, row in enumerate(rows):
            for k, w in enumerate(row):
                (x0, y0), (x1, y1) = centres[previous[k]], centres[activations[j].label]
                arrows.append(
                    Arrow(
                        (x0 + width, y0),
                        (x1, y1),
                        highlighted=stage == layer and phase != FORWARD,
                        label=f"{w.label} {fmt(w)} ∂ {fmt(w, True)}",
                    )
                )
        previous = [a.label for a in activations]
    for a in network.a[-1]:
        (x0, y0), (x1, y1) = centres[a.label], centres["L"]
        arrows.append(Arrow((x0 + width, y0), (x1, y1), highlighted=stage == loss_stage))
    total_width = 20 + len(columns) * (width + gap_x) - gap_x
    total_height = 20 + tallest * (height + gap_y) - gap_y
    return Scene(total_width, total_height, boxes, arrows)


def _arrow_head(start, end, size: float = 7.0) -> str:
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    left = (x1 - size * ux + size * 0.5 * uy, y1 - size * uy - size * 0.5 * ux)
    right = (x1 - size * ux - size * 0.5 * uy, y1 - size * uy + size * 0.5 * ux)
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in (end, left, right))


def scene_to_svg(scene: Scene, step: int | None = None) -> str:
    """The scene as an inline SVG; the written node has class ``current`` (for tests and CSS)."""
    parts = [
        '<svg class="backprop-graph" xmlns="http://www.w3.org/2000/svg" '
        + ("" if step is None else f'data-step="{step}" ')
        + f'viewBox="0 0 {scene.width:.0f} {scene.height:.0f}" width="{scene.width:.0f}" '
        f'style="max-width:100%;height:auto;font-family:sans-serif;font-size:{FONT_SIZE}px">'
    ]
    for arrow in scene.arrows:
        colour, stroke = ("#c0392b", 2.4) if arrow.highlighted else ("#8c8c8c", 1.2)
        (x0, y0), (cx, cy), (x1, y1) = arrow.start, arrow.control, arrow.end
        parts.append(
            f'<path d="M{x0:.1f},{y0:.1f} Q{cx:.1f},{cy:.1f} {x1:.1f},{y1:.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="{stroke}"/>'
            f'<polygon points="{_arrow_head(arrow.control, arrow.end)}" fill="{colour}"/>'
        )
        if arrow.label:
            lx, ly = arrow.point_at(0.3)
            ly -= 4
            parts.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="{FONT_SIZE - 2}" fill="{colour}" '
                f'text-anchor="middle" paint-order="stroke" stroke="white" stroke-width="3">'
                f"{html.escape(arrow.label)}</text>"
            )
    for box in scene.boxes:
        fill, border = STYLE_COLOURS[box.style]
        current = " current" if box.style in CURRENT_STYLES else ""
        parts.append(
            f'<g class="node{current} {box.style}" data-key="{html.escape(box.key)}">'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width}" height="{box.height}" '
            f'rx="7" fill="{fill}" stroke="{border}" stroke-width="{2.5 if current else 1}"/>'
        )
        for n, line in enumerate(box.lines):
            weight = ' font-weight="bold"' if n == 0 else ""
            parts.append(
                f'<text x="{box.x + 8:.1f}" y="{box.y + 6 + (n + 0.8) * LINE_HEIGHT:.1f}"'
                f"{weight}>{html.escape(line)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def scene_to_png(scene: Scene, caption: str = "") -> bytes:
    """The same scene drawn by matplotlib's Agg backend, for pages without a kernel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    top = 40 if caption else 0
    dpi = 100
    figure = Figure(figsize=(scene.width / dpi, (scene.height + top) / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, scene.width)
    axes.set_ylim(scene.height, -top)  # y grows downwards, as in SVG
    axes.axis("off")
    points = FONT_SIZE * 72 / dpi  # the SVG's pixel font size, in points
    if caption:
        axes.text(10, -top / 2, caption, fontsize=points, va="center", wrap=True)
    for arrow in scene.arrows:
        colour, stroke = ("#c0392b", 2.0) if arrow.highlighted else ("#8c8c8c", 1.0)
        axes.annotate(
            "",
            xy=arrow.end,
            xytext=arrow.start,
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "lw": stroke,
                "connectionstyle": f"arc3,rad={arrow.bend}",
                "shrinkA": 0,
                "shrinkB": 0,
            },
            zorder=1,
        )
        if arrow.label:
            label_x, label_y = arrow.point_at(0.3)
            axes.text(
                label_x,
                label_y - 4,
                arrow.label,
                fontsize=points - 1.5,
                color=colour,
                ha="center",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
                zorder=4,
            )
    for box in scene.boxes:
        fill, border = STYLE_COLOURS[box.style]
        axes.add_patch(
            FancyBboxPatch(
                (box.x, box.y),
                box.width,
                box.height,
                boxstyle="round,pad=0,rounding_size=7",
                facecolor=fill,
                edgecolor=border,
                linewidth=2 if box.style in CURRENT_STYLES else 1,
                zorder=2,
            )
        )
        for n, line in enumerate(box.lines):
            axes.text(
                box.x + 8,
                box.y + 6 + (n + 0.8) * LINE_HEIGHT,
                line,
                fontsize=points,
                fontweight="bold" if n == 0 else "normal",
                zorder=3,
            )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# --------------------------------------------------------------------------- captions


def _vector(values) -> str:
    return "[" + ", ".join(format_number(v) for v in values) + "]"


def _activation_slope(activation: str, z: float, a: float) -> float:
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "tanh":
        return 1 - a * a
    return 1.0 if z > 0 else 0.0


def network_caption(network: ScalarNetwork, tape: BackpropTape) -> str:
    """The last layer-level step in matrix form (δ, ∂L/∂W = δ aᵀ, ∂L/∂b = δ, the update)."""
    steps = tape.current_steps
    if not steps:
        return tape.describe()
    phase, stage = steps[-1].phase, steps[-1].stage
    heading = f"Step {tape.step_number} of {tape.step_count} · {phase}"
    n_layers = len(network.weights)
    sup = _sup(stage)
    value, grad = tape.value_of, tape.grad_of
    if stage == n_layers + 1:
        outputs = network.a[-1]
        if phase == FORWARD:
            return (
                f"{heading} · loss: L = mean((ŷ − y)²) with ŷ = "
                f"{_vector(value(a) for a in outputs)}, y = {_vector(network.targets)} "
                f"→ L = {format_number(value(network.loss))}"
            )
        return (
            f"{heading} · loss: ∂L/∂ŷ = 2(ŷ − y)/{len(outputs)} = "
            f"{_vector(grad(a) for a in outputs)}"
        )
    layer = stage - 1
    zs, activations = network.z[layer], network.a[layer]
    previous = network.inputs if layer == 0 else network.a[layer - 1]
    previous_name = "x" if layer == 0 else f"a{_sup(stage - 1)}"
    W, b = network.weights[layer], network.biases[layer]
    if phase == FORWARD:
        return (
            f"{heading} · layer {stage}: z{sup} = W{sup}{previous_name} + b{sup} = "
            f"{_vector(value(z) for z in zs)}; a{sup} = {network.activation}(z{sup}) = "
            f"{_vector(value(a) for a in activations)}"
        )
    if phase == UPDATE:
        return (
            f"{heading} · layer {stage}: W{sup} ← W{sup} − η ∂L/∂W{sup} = "
            f"[{', '.join(_vector(value(w) for w in row) for row in W)}]; "
            f"b{sup} ← b{sup} − η ∂L/∂b{sup} = {_vector(value(v) for v in b)} "
            f"(η = {tape.learning_rate:g})"
        )
    slopes = [
        _activation_slope(network.activation, value(z), value(a))
        for z, a in zip(zs, activations, strict=True)
    ]
    text = (
        f"{heading} · layer {stage}: δ{sup} = ∂L/∂a{sup} ⊙ {network.activation}′(z{sup}) = "
        f"{_vector(grad(a) for a in activations)} ⊙ {_vector(slopes)} = "
        f"{_vector(grad(z) for z in zs)}; ∂L/∂W{sup} = δ{sup} {previous_name}ᵀ = "
        f"[{', '.join(_vector(grad(w) for w in row) for row in W)}]; "
        f"∂L/∂b{sup} = δ{sup}"
    )
    if layer > 0:
        text += f"; ∂L/∂{previous_name} = W{sup}ᵀ δ{sup} = {_vector(grad(a) for a in previous)}"
    return text


_CELL_STYLE = "padding:1px 10px;text-align:right"  # Lab's default table padding is roomy


def gradient_table(tape: BackpropTape, rows: Sequence[int] | None = None) -> str:
    """HTML table: value, backprop's gradient, the numerical gradient, their relative error."""
    written, _, _ = _current_marks(tape)
    rows = range(len(tape.nodes)) if rows is None else rows
    body = []
    for i in rows:
        error = tape.relative_error(i)
        check = "" if error is None else ("✓" if error < 1e-6 else "✗")
        update = ""
        if tape.nodes[i].parameter and tape.values[i] != tape.nodes[i].data:
            update = f"{format_number(tape.nodes[i].data)} → {format_number(tape.values[i])}"
        numerical = format_number(tape.numerical_grads[i]) if error is not None else "·"
        cells = [
            tape.names[i],
            format_number(tape.values[i]),
            format_number(tape.grads[i]),
            numerical,
            "·" if error is None else f"{error:.1e} {check}",
            update,
        ]
        style = ' class="current" style="background:#fff3c4"' if i in written else ""
        body.append(
            f"<tr{style}>"
            + "".join(f'<td style="{_CELL_STYLE}">{html.escape(c)}</td>' for c in cells)
            + "</tr>"
        )
    header = "".join(
        f'<th style="{_CELL_STYLE}">{h}</th>'
        for h in (
            "node",
            "value",
            "grad (backprop)",
            "grad (numerical)",
            "relative error",
            "update",
        )
    )
    return (
        '<table class="backprop-table" style="font-family:monospace;font-size:12px">'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


# --------------------------------------------------------------------------- the widget


class BackpropStepper:
    """Step through forward pass, backward pass and weight update, one click at a time.

    ``BackpropStepper(L)`` for an expression ``L`` (a :class:`Value`) draws every node and
    steps node by node (edge by edge in the backward pass). ``BackpropStepper(network)``
    for a :func:`scalar_network` draws neurons and steps layer by layer; pass
    ``view="graph"`` to see the same network's every node instead.

    The buttons call the methods of the same name, which tests and instructors can call
    from code: ``next()``, ``prev()``, ``run_forward()``, ``run_backward()``, ``update()``,
    ``reset()``. ``tape`` is the model (:class:`BackpropTape`) with all the numbers.
    """

    def __init__(self, source, *, learning_rate: float = 0.1, view: str | None = None):
        if isinstance(source, ScalarNetwork):
            self.network, output = source, source.loss
            view = view or "network"
        elif isinstance(source, Value):
            self.network, output = None, source
            view = view or "graph"
        else:
            raise TypeError(
                "BackpropStepper needs a Value (the output of an expression) or a network "
                f"from scalar_network(...), got {type(source).__name__}"
            )
        if view not in ("graph", "network") or (view == "network" and self.network is None):
            raise ValueError(
                f"view must be 'graph', or 'network' for a scalar_network(...), got {view!r}"
            )
        self.view = view
        granularity = "stage" if view == "network" else "node"
        self.tape = BackpropTape(output, learning_rate=learning_rate, granularity=granularity)
        self._widget = None

    # -- the buttons' methods: move the model, then redraw
    def next(self) -> bool:
        moved = self.tape.next()
        self._redraw()
        return moved

    def prev(self) -> bool:
        moved = self.tape.prev()
        self._redraw()
        return moved

    def run_forward(self) -> None:
        self.tape.run_forward()
        self._redraw()

    def run_backward(self) -> None:
        self.tape.run_backward()
        self._redraw()

    def update(self) -> None:
        self.tape.update()
        self._redraw()

    def reset(self) -> None:
        self.tape.reset()
        self._redraw()

    # -- what is shown
    def caption(self) -> str:
        if self.view == "network":
            return network_caption(self.network, self.tape)
        return self.tape.describe()

    def scene(self) -> Scene:
        if self.view == "network":
            return network_scene(self.network, self.tape)
        return graph_scene(self.tape)

    def svg(self) -> str:
        return scene_to_svg(self.scene(), step=self.tape.step_number)

    def table_rows(self) -> list[int]:
        if self.view == "graph":
            return list(range(len(self.tape.nodes)))
        shown = [*self.network.parameters, *(z for layer in self.network.z for z in layer)]
        return [self.tape.index[id(node)] for node in shown]

    def png(self) -> bytes:
        return scene_to_png(self.scene(), self.caption())

    @property
    def widget(self):
        """The ipywidgets layout, built on first use (so the model works without a frontend)."""
        if self._widget is None:
            self._widget = self._build_widget()
            self._redraw()
        return self._widget

    def _build_widget(self):
        import ipywidgets as widgets  # only the view needs it; the model runs without

        self._caption = widgets.HTML(layout=widgets.Layout(min_height="3em"))
        self._graph = widgets.HTML()
        self._table = widgets.HTML()
        self._buttons = {}
        labels = {
            "prev": "◀ Prev",
            "next": "Next ▶",
            "run_forward": "Run forward",
            "run_backward": "Run backward",
            "update": f"Update (η = {self.tape.learning_rate:g})",
            "reset": "Reset",
        }
        for name, label in labels.items():
            button = widgets.Button(description=label, layout=widgets.Layout(width="auto"))
            method = getattr(self, name)
            button.on_click(lambda _button, method=method: method())
            button.add_class(f"backprop-{name.replace('_', '-')}")
            self._buttons[name] = button
        box = widgets.VBox(
            [
                widgets.HBox(list(self._buttons.values())),
                self._caption,
                self._graph,
                self._table,
            ]
        )
        box.add_class("backprop-stepper")
        return box

    def _redraw(self) -> None:
        if self._widget is None:
            return
        caption = html.escape(self.caption())
        position, total = self.tape.position, len(self.tape.steps)
        # Each child widget changes a single trait, so each sends one message already;
        # hold_sync() would only help a widget that changes several traits at once.
        # The caption goes last: when it shows step n, the picture and table already do.
        self._graph.value = self.svg()
        self._table.value = gradient_table(self.tape, self.table_rows())
        self._caption.value = f'<div class="backprop-caption">{caption}</div>'
        self._buttons["prev"].disabled = position == 0
        self._buttons["next"].disabled = position == total

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        # Pages without a kernel (GitHub, nbviewer, a closed notebook) show this picture.
        bundle["image/png"] = base64.b64encode(self.png()).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        return (
            f"BackpropStepper({self.view} view, step {self.tape.step_number} of "
            f"{self.tape.step_count}, phase: {self.tape.phase})"
        )
