"""Backpropagation one step at a time: the ``BackpropStepper`` widget.

The stepper is a thin view over four small modules, each usable without the next:

* :mod:`widgets.autodiff` — ``Value``, the scalar autodiff engine (micrograd-sized);
* :mod:`widgets.backprop_tape` — ``BackpropTape``, the model: the recorded forward pass,
  backward pass and update, with a cursor that ``next()``/``prev()`` move;
* :mod:`widgets.backprop_network` — ``scalar_network``, a tiny MLP made of ``Value`` s;
* :mod:`widgets.backprop_draw` — the graph as a scene, drawn as SVG or PNG.

This module adds the captions, the gradient table and the buttons. The names lessons
use are importable from here as well (``from widgets.backprop import Value, ...``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from widgets.autodiff import Value, topological_order
from widgets.autodiff_bridge import is_foreign_value, mirror
from widgets.backprop_draw import (
    Scene,
    current_marks,
    graph_scene,
    network_scene,
    scene_to_png,
    scene_to_svg,
)
from widgets.backprop_network import ScalarNetwork, scalar_network
from widgets.backprop_tape import (
    FORWARD,
    UPDATE,
    BackpropTape,
    format_number,
    superscript,
)
from widgets.display import widget_bundle

__all__ = [
    "BackpropStepper",
    "BackpropTape",
    "ScalarNetwork",
    "Value",
    "gradient_table",
    "network_caption",
    "scalar_network",
    "topological_order",
]


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
    sup = superscript(stage)
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
    previous_name = "x" if layer == 0 else f"a{superscript(stage - 1)}"
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
            f"(η = {tape.lr:g})"
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
    written, _, _ = current_marks(tape)
    rows = range(len(tape.nodes)) if rows is None else rows
    body = []
    for i in rows:
        error = tape.relative_error(i)
        if error is not None:
            check = f"{error:.1e} {'✓' if tape.gradient_agrees(i) else '✗'}"
        elif tape.gradient_is_final(i):  # a kink or a domain edge: no slope to estimate
            check = "not differentiable here"
        else:
            check = "·"
        update = ""
        if tape.nodes[i].parameter and tape.values[i] != tape.nodes[i].data:
            update = f"{format_number(tape.nodes[i].data)} → {format_number(tape.values[i])}"
        numerical = format_number(tape.numerical_grads[i]) if error is not None else "·"
        cells = [
            tape.names[i],
            format_number(tape.values[i]),
            format_number(tape.grads[i]),
            numerical,
            check,
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
    ``view="graph"`` to see the same network's every node instead. An expression of
    another micrograd-style engine (exercise 7's) is replayed with that engine's own rules
    (:func:`widgets.autodiff_bridge.mirror`); ``parameters`` names its nodes to update.

    The buttons call the methods of the same name, which tests and instructors can call
    from code: ``next()``, ``prev()``, ``run_forward()``, ``run_backward()``, ``update()``,
    ``reset()``. ``tape`` is the model (:class:`BackpropTape`) with all the numbers.
    """

    def __init__(self, source, *, lr: float = 0.1, view: str | None = None, parameters=()):
        if is_foreign_value(source):
            source = mirror(source, parameters=parameters)
        if isinstance(source, ScalarNetwork):
            self.network, output = source, source.loss
            view = view or "network"
        elif isinstance(source, Value):
            self.network, output = None, source
            view = view or "graph"
        else:
            raise TypeError(
                "BackpropStepper needs a Value (the output of an expression, of this course's "
                "engine or a micrograd-style one) or a network from scalar_network(...), "
                f"got {type(source).__name__}"
            )
        if view not in ("graph", "network") or (view == "network" and self.network is None):
            raise ValueError(
                f"view must be 'graph', or 'network' for a scalar_network(...), got {view!r}"
            )
        self.view = view
        granularity = "stage" if view == "network" else "node"
        self.tape = BackpropTape(output, lr=lr, granularity=granularity)
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
        import ipywidgets  # only the view needs it; the model runs without

        self._caption = ipywidgets.HTML(layout=ipywidgets.Layout(min_height="3em"))
        self._graph = ipywidgets.HTML()
        self._table = ipywidgets.HTML()
        self._buttons = {}
        labels = {
            "prev": "◀ Prev",
            "next": "Next ▶",
            "run_forward": "Run forward",
            "run_backward": "Run backward",
            "update": f"Update (η = {self.tape.lr:g})",
            "reset": "Reset",
        }
        for name, label in labels.items():
            button = ipywidgets.Button(description=label, layout=ipywidgets.Layout(width="auto"))
            method = getattr(self, name)
            button.on_click(lambda _button, method=method: method())
            button.add_class(f"backprop-{name.replace('_', '-')}")
            self._buttons[name] = button
        box = ipywidgets.VBox(
            [
                ipywidgets.HBox(list(self._buttons.values())),
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
        return widget_bundle(self.widget, self.png(), repr(self), **kwargs)

    def __repr__(self) -> str:
        return (
            f"BackpropStepper({self.view} view, step {self.tape.step_number} of "
            f"{self.tape.step_count}, phase: {self.tape.phase})"
        )
