"""Drawing the backprop stepper's graph: layout, SVG for the widget, PNG for static pages.

A :class:`Scene` is a list of boxes and arrows in pixel coordinates, computed from a
:class:`~widgets.backprop_tape.BackpropTape` (every node: :func:`graph_scene`) or from a
:class:`~widgets.backprop_network.ScalarNetwork` (neurons in layers:
:func:`network_scene`). The widget turns it into SVG (fast enough for every click); the
static fallback draws the same scene as a PNG with matplotlib. Neither needs a system
binary such as Graphviz. Nothing here changes the tape.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from widgets.autodiff import Value
from widgets.backprop_network import ScalarNetwork
from widgets.backprop_tape import BACKWARD, FORWARD, UPDATE, BackpropTape, format_number
from widgets.display import figure_png

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


def current_marks(tape: BackpropTape) -> tuple[set[int], set[int], str]:
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
    written, sources, phase = current_marks(tape)
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
    return figure_png(figure, dpi)
