"""Another scalar engine's graph, mirrored as course ``Value`` s, so the stepper can replay it.

Exercise 7 has students write their own micrograd-style engine: a node has ``data``,
``grad``, its inputs in ``_prev``, its operation's name in ``_op`` (``"+"``, ``"*"``,
``"**2"``, ``"relu"`` ...) and a ``_backward()`` closure that adds
``out.grad × ∂out/∂input`` into each input's ``grad``. :func:`mirror` copies such a graph
node for node into :class:`~widgets.autodiff.Value` s whose *rules* call the other
engine's own code: the value comes from applying the operation to fresh nodes of the
other class, the local gradients from running its ``_backward()`` with ``out.grad = 1``.
So :class:`~widgets.backprop_tape.BackpropTape` (and the stepper on it) shows the
student's numbers, and its numerical check column tests the student's rules.

Duck-typed: any class with those attributes and a constructor taking a number works
(micrograd's ``Value`` included, whose ``_prev`` is a set). A model: no display code.
"""

from __future__ import annotations

from collections.abc import Iterable

from widgets.autodiff import Value

# The operations the stepper can draw, by their name in ``_op``; "**k" carries its exponent.
_UNARY = {"relu", "tanh", "exp", "log", "sigmoid"}
_BINARY = {"+", "*"}


def is_foreign_value(node) -> bool:
    """Whether ``node`` looks like a node of a micrograd-style engine (and is not ours)."""
    return not isinstance(node, Value) and all(
        hasattr(node, name) for name in ("data", "grad", "_prev", "_op", "_backward")
    )


def _exponent(op: str) -> float | None:
    """``3.0`` for ``"**3"``; None when ``op`` is not a power with its exponent written in."""
    if not op.startswith("**"):
        return None
    try:
        return float(op[2:])
    except ValueError:
        return None


def _apply(cls, op: str, exponent: float | None, inputs: tuple[float, ...]):
    """The other engine's ``op`` applied to fresh leaves holding ``inputs``: (leaves, out)."""
    leaves = [cls(value) for value in inputs]
    if op == "+":
        out = leaves[0] + leaves[1]
    elif op == "*":
        out = leaves[0] * leaves[1]
    elif exponent is not None:
        out = leaves[0] ** exponent
    else:
        out = getattr(leaves[0], op)()
    return leaves, out


def _rule(cls, op: str, exponent: float | None):
    """A rule for :class:`Value`: the other engine's value and local gradients at ``inputs``."""

    def rule(*inputs):
        leaves, out = _apply(cls, op, exponent, inputs)
        for leaf in leaves:
            leaf.grad = 0.0
        out.grad = 1.0
        out._backward()  # adds 1 × ∂out/∂leaf into each leaf: the local gradients
        return float(out.data), tuple(float(leaf.grad) for leaf in leaves)

    return rule


def _operation(node) -> tuple[str, float | None, int]:
    """(op for the displays, exponent or None, number of inputs) of a foreign node."""
    op = str(node._op)
    exponent = _exponent(op)
    if exponent is not None:
        return "**", exponent, 1
    if op in _BINARY:
        return op, None, 2
    if op in _UNARY:
        return op, None, 1
    known = ", ".join(sorted(_BINARY | _UNARY)) + ", **k (the exponent written in, e.g. **2)"
    raise ValueError(f"the stepper cannot show the operation _op={op!r}; it knows {known}")


def mirror(output, *, parameters: Iterable = (), copies: dict | None = None) -> Value:
    """The graph that ends in ``output`` (a node of another engine) as course ``Value`` s.

    ``parameters`` are the other engine's nodes that gradient descent updates (the
    stepper's update phase moves them); a node's ``label`` attribute, when it has one,
    names it in the displays. Returns the mirror of ``output``; ``copies``, when given,
    is filled with ``id(node) → its mirror`` for every node.
    """
    if not is_foreign_value(output):
        raise TypeError(
            "mirror() needs a node of a micrograd-style engine (with data, grad, _prev, _op "
            f"and _backward), got {type(output).__name__}"
        )
    parameter_ids = {id(node) for node in parameters}
    mirrored: dict[int, Value] = {} if copies is None else copies
    stack: list[tuple[object, bool]] = [(output, False)]
    while stack:  # depth first, iterative: parents are mirrored before their children
        node, parents_done = stack.pop()
        if id(node) in mirrored:
            continue
        inputs = list(node._prev)
        if not parents_done and inputs:
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(inputs))
            continue
        copy = Value(
            float(node.data),
            str(getattr(node, "label", "") or ""),
            parameter=id(node) in parameter_ids,
        )
        if inputs:
            op, exponent, arity = _operation(node)
            if len(inputs) == 1 and arity == 2:  # a set of inputs (micrograd) merges a + a
                inputs = inputs * 2
            if len(inputs) != arity:
                raise ValueError(
                    f"a node with _op={node._op!r} has {len(inputs)} inputs in _prev, "
                    f"expected {arity}"
                )
            copy.parents = tuple(mirrored[id(parent)] for parent in inputs)
            copy.op, copy.constant = op, exponent
            copy.rule = _rule(type(node), str(node._op), exponent)
            copy._local = copy.rule(*(parent.data for parent in copy.parents))[1]
        mirrored[id(node)] = copy
    return mirrored[id(output)]
