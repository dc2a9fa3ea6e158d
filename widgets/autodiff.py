"""A scalar autodiff engine small enough to read in one sitting (in the spirit of micrograd).

A :class:`Value` is a number that remembers how it was computed::

    a = Value(2.0, "a"); b = Value(-3.0, "b")
    L = (a * b + a).tanh(); L.backward()   # now a.grad = ∂L/∂a, b.grad = ∂L/∂b

Each operation is one small *rule* written next to the method that uses it: from the
inputs' numbers it returns the output's number **and** the local gradients
∂output/∂input. The chain rule is then the same one line for every node
(``parent.grad += local × node.grad``, in :meth:`Value.backward`), so no operation
repeats it. Subtraction and division are not rules of their own: ``a - b`` is
``a + b × (−1)`` and ``a / b`` is ``a × b⁻¹``, so their gradients follow from ``+``,
``×`` and ``**``.

Lesson 3 teaches this file; ``widgets.backprop_tape`` replays the same rules one step at
a time for the stepper widget. ``tests/test_autodiff.py`` re-derives every gradient
with PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

# A rule maps the inputs' numbers to (the output's number, ∂output/∂input for each input).
Rule = Callable[..., tuple[float, tuple[float, ...]]]


class Value:
    """A scalar node of a computational graph, with its value ``data`` and gradient ``grad``.

    ``parameter=True`` marks a value that gradient descent updates (a weight or a bias).
    ``stage`` groups nodes for the stepper's layer-by-layer view (0 = no grouping).
    """

    __slots__ = (
        "data",
        "grad",
        "label",
        "parents",
        "op",
        "constant",
        "rule",
        "parameter",
        "stage",
        "_local",
    )

    def __init__(self, data: float, label: str = "", *, parameter: bool = False, stage: int = 0):
        if isinstance(data, Value):
            raise TypeError("Value(...) takes a number; the argument is already a Value")
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"Value needs a real number, got {data!r}") from None
        self.grad = 0.0
        self.label = label
        self.parameter = parameter
        self.stage = stage
        self.parents: tuple[Value, ...] = ()
        self.op = ""  # the operation's symbol, for displays ("+", "*", "tanh", ...)
        self.constant: float | None = None  # the exponent of "**"
        self.rule: Rule | None = None  # how this node was computed from its parents
        self._local: tuple[float, ...] = ()  # ∂self/∂parent, at the time of computing

    @staticmethod
    def _result(rule: Rule, op: str, *parents: Value, constant: float | None = None) -> Value:
        """Apply ``rule`` to the parents' numbers: the new node, with its local gradients."""
        data, local = rule(*(parent.data for parent in parents))
        out = Value(data)
        out.parents, out.op, out.constant, out.rule, out._local = (
            parents,
            op,
            constant,
            rule,
            local,
        )
        return out

    # -- the primitive operations: each returns (value, local gradients)
    def __add__(self, other) -> Value:
        def add(a, b):
            return a + b, (1.0, 1.0)

        return Value._result(add, "+", self, as_value(other))

    def __mul__(self, other) -> Value:
        def multiply(a, b):
            return a * b, (b, a)

        return Value._result(multiply, "*", self, as_value(other))

    def __pow__(self, exponent) -> Value:
        if not isinstance(exponent, (int, float)) or isinstance(exponent, bool):
            raise TypeError("the exponent must be a plain number (x ** 2), not a Value")
        k = float(exponent)

        def power(a):
            if a < 0 and not k.is_integer():
                raise ValueError(f"x ** {k:g} needs x >= 0 (a real root), got {a:g}")
            if a == 0 and k < 0:
                raise ValueError(f"x ** {k:g} is undefined at x = 0 (a division by zero)")
            if a == 0 and 0 < k < 1:
                return 0.0, (math.inf,)  # a root is infinitely steep at 0 (PyTorch agrees)
            return _float_power(a, k), (k * _float_power(a, k - 1) if k != 0 else 0.0,)

        return Value._result(power, "**", self, constant=k)

    def tanh(self) -> Value:
        def tanh(a):
            t = math.tanh(a)
            return t, (1.0 - t * t,)

        return Value._result(tanh, "tanh", self)

    def sigmoid(self) -> Value:
        def sigmoid(a):
            # Two forms, so that exp never overflows: exp(-a) for a >= 0, exp(a) below.
            s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
            return s, (s * (1.0 - s),)

        return Value._result(sigmoid, "sigmoid", self)

    def relu(self) -> Value:
        def relu(a):
            return max(a, 0.0), (1.0 if a > 0 else 0.0,)  # PyTorch's slope at exactly 0

        return Value._result(relu, "relu", self)

    def exp(self) -> Value:
        def exp(a):
            try:
                e = math.exp(a)
            except OverflowError:  # beyond a ≈ 709.78: inf, as PyTorch gives
                e = math.inf
            return e, (e,)

        return Value._result(exp, "exp", self)

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got {self.data:g}")

        def log(a):
            return math.log(a), (1.0 / a,)

        return Value._result(log, "log", self)

    # -- derived operations: built from the primitives, so their gradients come for free
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other) -> Value:
        return self + _negated(other)

    def __truediv__(self, other) -> Value:
        return self * (other**-1 if isinstance(other, Value) else 1.0 / as_value(other).data)

    def __radd__(self, other) -> Value:
        return as_value(other) + self

    def __rmul__(self, other) -> Value:
        return as_value(other) * self

    def __rsub__(self, other) -> Value:
        return as_value(other) + (-self)

    def __rtruediv__(self, other) -> Value:
        return as_value(other) * self**-1

    # -- the backward pass
    def backward(self) -> None:
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Gradients are *added* into ``.grad`` (a node used twice receives two
        contributions), so they are reset to zero first, in the whole graph.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # every node after all the nodes that use it
            for parent, local in zip(node.parents, node._local, strict=True):
                parent.grad += local * node.grad  # the chain rule, for every operation

    # -- conveniences
    def named(self, label: str, stage: int | None = None) -> Value:
        """Give this node a name (and a stage) for displays; returns the node itself."""
        self.label = label
        if stage is not None:
            self.stage = stage
        return self

    @property
    def is_leaf(self) -> bool:
        return not self.parents

    def local_gradients(self) -> tuple[float, ...]:
        """∂self/∂parent for each parent, at the parents' current values."""
        if self.rule is None:
            return ()
        return self.rule(*(parent.data for parent in self.parents))[1]

    def __repr__(self) -> str:
        name = f"{self.label}, " if self.label else ""
        return f"Value({name}data={self.data:.4g}, grad={self.grad:.4g})"


def _float_power(a: float, k: float) -> float:
    """``a ** k`` as PyTorch computes it: ±inf when the result overflows, not an error."""
    try:
        return a**k
    except OverflowError:
        negative = a < 0 and float(k).is_integer() and int(k) % 2 == 1
        return -math.inf if negative else math.inf


def as_value(number) -> Value:
    """``number`` itself when it is a Value, else a new leaf named after the number."""
    if isinstance(number, Value):
        return number
    if isinstance(number, (int, float)) and not isinstance(number, bool):
        return Value(number, f"{number:g}")
    raise TypeError(f"cannot combine a Value with {type(number).__name__}; use numbers or Values")


def _negated(number) -> Value:
    """``-number``: a node for a Value, a new leaf (no extra node) for a plain number."""
    if isinstance(number, Value):
        return -number
    return as_value(-as_value(number).data)


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
