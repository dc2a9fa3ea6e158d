"""The model behind the backprop stepper: a recorded forward pass, backward pass and update.

:class:`BackpropTape` replays an expression built from :class:`~widgets.autodiff.Value` s
one step at a time: each node of the forward pass, each edge of the backward pass
(upstream gradient × local gradient, added into the parent's gradient) and the
gradient-descent update of every parameter. Its methods ``next()``, ``prev()``,
``run_forward()``, ``run_backward()``, ``update()`` and ``reset()`` mirror the widget's
buttons; the state after any step is a pure function of the step number, so ``prev()``
exactly undoes ``next()``. It also estimates every gradient numerically, for the
widget's check column. No ipywidgets, no matplotlib: ``widgets.backprop`` is the view.
"""

from __future__ import annotations

from dataclasses import dataclass

from widgets.autodiff import Value, topological_order
from widgets.gradcheck import relative_error, rounding_uncertainty, scalar_slope

# A backprop gradient passes the stepper's check when its relative error to the
# numerical estimate (taken with a step relative to the node's size) is below this.
CHECK_TOLERANCE = 1e-6

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def superscript(number) -> str:
    """``superscript(-1) == "⁻¹"``: exponents and layer numbers in names."""
    return str(number).translate(_SUPERSCRIPTS)


def subscript(number) -> str:
    """``subscript(12) == "₁₂"``: unit numbers in names."""
    return str(number).translate(_SUBSCRIPTS)


# How the displays write each operation of widgets.autodiff: {0}, {1} are the inputs,
# {c} the exponent.
FORMULAS = {
    "+": "{0} + {1}",
    "*": "{0} × {1}",
    "**": "{0}^{c}",
    "tanh": "tanh({0})",
    "sigmoid": "σ({0})",
    "relu": "relu({0})",
    "exp": "exp({0})",
    "log": "log({0})",
}

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
        lr: float = 0.1,
        granularity: str = "node",
        epsilon: float = 1e-6,
    ):
        if not isinstance(output, Value):
            raise TypeError(
                f"BackpropTape needs the output Value of an expression, got {type(output).__name__}"
            )
        if granularity not in ("node", "stage"):
            raise ValueError(f"granularity must be 'node' or 'stage', got {granularity!r}")
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}")
        self.output = output
        self.lr = float(lr)
        self.granularity = granularity
        self.nodes = self._stage_order(topological_order(output))
        self.index = {id(node): i for i, node in enumerate(self.nodes)}
        self.names = self._names()
        self._initial_values = [node.data if node.is_leaf else None for node in self.nodes]
        self.steps = self._record()
        self.numerical_grads = self._numerical_gradients(epsilon)
        output_value = self.forward_values[self.index[id(output)]]
        self.numerical_uncertainty = [
            rounding_uncertainty(output_value, value, epsilon) for value in self.forward_values
        ]
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
                names.append(f"n{subscript(unnamed)}")
        return names

    def formula(self, i: int) -> str:
        """Node ``i``'s formula in its parents' names, e.g. ``"a × b"``."""
        node = self.nodes[i]
        if node.is_leaf:
            return ""
        parent_names = [self.names[self.index[id(p)]] for p in node.parents]
        if node.op == "**" and node.constant.is_integer():
            return f"{parent_names[0]}{superscript(int(node.constant))}"  # x², not x^2
        constant = "" if node.constant is None else f"{node.constant:g}"
        return FORMULAS[node.op].format(*parent_names, c=constant)

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
                values.append(node.rule(*inputs)[0])
        return values[self.index[id(self.output)]]

    def _record(self) -> list[Step]:
        steps: list[Step] = []
        values = list(self._initial_values)
        for i, node in enumerate(self.nodes):
            if node.is_leaf:
                continue
            inputs = [values[self.index[id(p)]] for p in node.parents]
            values[i] = node.rule(*inputs)[0]
            numbers = FORMULAS[node.op].format(
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
            locals_ = node.rule(*inputs)[1]
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
                after = node.data - self.lr * gradient
                text = (
                    f"{self.names[i]} ← {self.names[i]} − η·∂L/∂{self.names[i]} = "
                    f"{format_number(node.data)} − {self.lr:g} × "
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

    def _numerical_gradients(self, epsilon: float) -> list[float | None]:
        """∂output/∂node by central differences, nudging each node's value in turn.

        The step is relative to the node's size, and a node where the output has no
        slope to estimate (a kink such as ReLU at 0, the edge of a log's or a root's
        domain) gets None: the widget says "not differentiable here" rather than ✗.
        """
        return [
            scalar_slope(lambda x, i=i: self._evaluate({i: x}), value, epsilon)
            for i, value in enumerate(self.forward_values)
        ]

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
        """Jump to the end: every parameter moved by ``-lr × gradient``."""
        self.go_to(len(self.steps))

    def reset(self) -> None:
        self.go_to(0)

    # -- reading the state
    def value_of(self, node: Value) -> float | None:
        return self.values[self._require(node)]

    def grad_of(self, node: Value) -> float | None:
        return self.grads[self._require(node)]

    def _require(self, node: Value) -> int:
        try:
            return self.index[id(node)]
        except KeyError:
            raise ValueError(f"{node!r} is not part of this graph") from None

    def relative_error(self, i: int) -> float | None:
        """|backprop − numerical| / (|backprop| + |numerical|), once node ``i``'s grad is
        final; None before that, and where there is no numerical slope (a kink)."""
        if not self.gradient_is_final(i) or self.numerical_grads[i] is None:
            return None
        return relative_error(self.grads[i], self.numerical_grads[i])

    def gradient_is_final(self, i: int) -> bool:
        """Whether every contribution to node ``i``'s gradient has been added."""
        final = self.grad_final_at[i]
        return final is not None and self.position >= final

    def gradient_agrees(self, i: int) -> bool | None:
        """Whether node ``i``'s finished gradient passes the numerical check (None: not yet,
        or not differentiable here): a relative error below ``CHECK_TOLERANCE``, or a
        difference within what rounding alone does to the numerical estimate."""
        error = self.relative_error(i)
        if error is None:
            return None
        difference = abs(self.grads[i] - self.numerical_grads[i])
        return error < CHECK_TOLERANCE or difference <= self.numerical_uncertainty[i]

    def numerical_grad_of(self, node: Value) -> float | None:
        return self.numerical_grads[self._require(node)]

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
