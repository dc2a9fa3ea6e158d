"""The training monitor's figure: one matplotlib Agg figure, redrawn in layers (blitting).

:class:`MonitorFigure` draws a :class:`~widgets.training_history.TrainingHistory` as a
grid of panels (one per series group, plus weight and gradient histograms) and returns
PNG bytes. It knows nothing of widgets, throttling or loops: :mod:`widgets.monitor`
decides when to call :meth:`MonitorFigure.render` and where the picture goes.

Most of a matplotlib redraw is text: tick labels, titles, legends. They change only
when an axis range changes, so the figure is drawn in two layers. The background
(axes, ticks, labels) is drawn once and kept as pixels; the data (lines, histogram
steps) are "animated" artists painted over a copy of it on every update. Axis ranges
are sticky: they grow with a margin when data leaves them, so the background is
redrawn only a few times per run, and then only the panels whose range changed.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator, NullFormatter, PercentFormatter

from widgets.display import blank_png, canvas_png
from widgets.training_history import (
    ACCURACY_NAMES,
    LEARNING_RATE_NAMES,
    TrainingHistory,
    split_name,
)

PANELS_PER_ROW = 3


def _panel_title(base: str) -> str:
    if base in ACCURACY_NAMES:
        return "accuracy"
    if base in LEARNING_RATE_NAMES:
        return "learning rate"
    return base.replace("_", " ")


class MonitorFigure:
    """The figure of a training history, rendered to PNG as cheaply as the change allows.

    After each :meth:`render`, :attr:`last_redrawn` says what was drawn beyond the data:
    ``("all",)`` for a full draw, the names of the panels whose axes changed, or ``()``
    when only the lines and histograms were painted over the cached background.
    """

    def __init__(self, width: float = 10.0):
        self.width = width
        self.figure: Figure | None = None
        self.last_redrawn: tuple[str, ...] = ()
        self._history: TrainingHistory | None = None
        self._title: str | None = None
        self._x_span: tuple[float, float] | None = None
        self._layout_key: tuple | None = None
        self._lines: dict[str, object] = {}
        self._axes: dict[str, object] = {}
        self._flag_lines: dict[str, list] = {}
        self._histogram_artists: dict[tuple[str, str], object] = {}
        self._animated: list = []  # data artists, painted over the cached background
        self._background = None  # pixels of everything else, None when it must be redrawn
        self._stale_axes: set = set()  # panels whose ticks or titles must be redrawn
        self._cell_patches: dict = {}  # a white rectangle covering each panel and its labels
        self._step_label = None

    def render(
        self,
        history: TrainingHistory,
        *,
        title: str | None = None,
        x_span: tuple[float, float] | None = None,
        full: bool = False,
    ) -> bytes:
        """The history as PNG bytes. ``x_span`` is the epoch range the run will cover (the
        x axis spans it from the start); ``full=True`` redraws everything from scratch."""
        self._history, self._title, self._x_span = history, title, x_span
        if not len(history) and not history.histograms:
            self.last_redrawn = ()
            return blank_png()  # nothing to draw yet: no need to lay out empty axes
        self._draw_figure()
        canvas = self.figure.canvas
        if full or self._background is None:
            canvas.draw()  # everything but the animated artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self.last_redrawn = ("all",)
        else:
            canvas.restore_region(self._background)
            names = {axes: base for base, axes in self._axes.items()}
            self.last_redrawn = tuple(sorted(names[axes] for axes in self._stale_axes))
            if self._stale_axes:  # redraw just those panels' cells, then keep the result
                renderer = canvas.get_renderer()
                for axes in self._stale_axes:
                    self._cell_patches[axes].draw(renderer)  # blank the panel's cell
                    axes.draw(renderer)
                self._background = canvas.copy_from_bbox(self.figure.bbox)
        self._stale_axes.clear()
        for artist in self._animated:
            artist.axes.draw_artist(artist)
        return canvas_png(canvas)

    def panel_titles(self) -> dict[str, str]:
        """Each panel's title as drawn, e.g. ``{"loss": "loss per epoch — ⚠ diverging"}``."""
        return {base: axes.get_title() for base, axes in self._axes.items()}

    def _panel_layout(self) -> tuple:
        panels = tuple((base, tuple(names)) for base, names in self._history.panels().items())
        if self._history.histograms:
            names = tuple(dict.fromkeys(entry["name"] for entry in self._history.histograms))
            panels += (("#weights", names), ("#gradients", names))
        return panels

    def _set_limits(self, axes, which: str, limits: tuple[float, float] | None) -> None:
        """Change an axis range, and only then mark the panel for redrawing."""
        if limits is None:
            return
        getter = axes.get_xlim if which == "x" else axes.get_ylim
        if tuple(getter()) != limits:
            (axes.set_xlim if which == "x" else axes.set_ylim)(*limits)
            self._stale_axes.add(axes)

    def _draw_figure(self) -> None:
        layout = self._panel_layout()
        if self.figure is None or layout != self._layout_key:
            self._build_figure(layout)
        for name, line in self._lines.items():
            line.set_data(*self._history.series(name))
        for base, names in layout:
            if base.startswith("#"):
                continue
            axes = self._axes[base]
            xs = [x for n in names for x in self._history.series(n)[0]]
            ys = [y for n in names for y in self._history.series(n)[1] if math.isfinite(y)]
            log = False
            if base in LEARNING_RATE_NAMES and ys and min(ys) > 0:
                log = max(ys) / min(ys) > 20
                scale = "log" if log else "linear"
                if axes.get_yscale() != scale:
                    axes.set_yscale(scale)
                    axes.yaxis.set_minor_formatter(NullFormatter())  # no labels on minor ticks
                    if not log:
                        axes.yaxis.set_major_locator(MaxNLocator(4))
                    self._stale_axes.add(axes)
            self._set_limits(axes, "x", self._x_limits(axes, xs))
            bounds = (0.0, 1.0) if base in ACCURACY_NAMES else (0.0, None)
            self._set_limits(axes, "y", sticky_range(axes.get_ylim(), ys, log=log, bounds=bounds))
            self._draw_flags(base, names, axes)
        if self._history.histograms:
            self._draw_histograms()
        heading = self._title or ""
        stopped = self._history.stopped_reason
        if stopped:
            heading = f"{heading} — {stopped}" if heading else stopped
        if self.figure.get_suptitle() != heading:
            color = "#d35400" if stopped else "black"
            self.figure.suptitle(heading, fontsize=10, color=color)
            self._background = None

    def _x_limits(self, axes, xs: list[float]) -> tuple[float, float] | None:
        if not xs:
            return None
        low, high = min(xs), max(xs)
        span = self._x_span if self._history.x_unit == "epoch" else None
        if span is not None:  # range() told us where the run ends
            low, high = min(low, span[0]), max(high, span[1])
            pad = 0.05 * (high - low) or 0.5
            return low - pad, high + pad
        current_low, current_high = axes.get_xlim()
        if low >= current_low and high <= current_high:
            return current_low, current_high
        # Room for as many rows again: the range doubles, so it is redrawn O(log n) times.
        pad = 0.05 * (high - low) or 0.5
        return low - pad, high + max(high - low, 1.0)

    def _draw_histograms(self) -> None:
        latest = {entry["name"]: entry for entry in self._history.histograms}
        for panel, kind in (("#weights", "weight"), ("#gradients", "grad_log10")):
            edges, tops = [], []
            for (artist_panel, name), artist in self._histogram_artists.items():
                if artist_panel != panel:
                    continue
                entry = latest[name]
                artist.set_data(entry[f"{kind}_fractions"], entry[f"{kind}_edges"])
                edges += [entry[f"{kind}_edges"][0], entry[f"{kind}_edges"][-1]]
                tops.append(float(np.max(entry[f"{kind}_fractions"])))
            axes = self._axes[panel]
            self._set_limits(axes, "x", sticky_range(axes.get_xlim(), edges, margin=0.1))
            self._set_limits(
                axes, "y", sticky_range(axes.get_ylim(), [0.0, *tops], bounds=(0, None))
            )
        self._step_label.set_text(f"backward pass {self._history.histograms[-1]['step']}")

    def _draw_flags(self, base: str, names: tuple, axes) -> None:
        flags = [flag for flag in self._history.flags if flag.name in names]
        drawn = self._flag_lines.setdefault(base, [])
        for flag in flags[len(drawn) :]:
            drawn.append(axes.axvline(flag.x, color="#c0392b", linestyle="--", linewidth=1))
            axes.set_title(
                f"{_panel_title(base)} — ⚠ diverging", fontsize=9, color="#c0392b", y=1.0
            )
            self._stale_axes.add(axes)

    def _build_figure(self, layout: tuple) -> None:
        count = max(1, len(layout))
        columns = min(PANELS_PER_ROW, count)
        rows = math.ceil(count / columns)
        # A new figure rather than figure.clear(), which first clears every old axes.
        figure = self.figure = Figure(dpi=72)
        FigureCanvasAgg(figure)
        figure.set_size_inches(self.width, 2.6 * rows + 0.3)
        figure.subplots_adjust(
            left=0.07,
            right=0.98,
            bottom=0.16 / rows,
            top=1 - 0.25 / rows,
            wspace=0.3,
            hspace=0.5,
        )
        self._lines, self._axes, self._flag_lines, self._histogram_artists = {}, {}, {}, {}
        self._animated, self._cell_patches = [], {}
        self._background = None
        self._stale_axes = set()
        styles = {"train": "-", "val": "--", "test": ":"}
        for index, (base, names) in enumerate(layout):
            axes = figure.add_subplot(rows, columns, index + 1)
            self._axes[base] = axes
            self._cell_patches[axes] = _cell_patch(figure, axes)
            axes.set_autoscale_on(False)  # ranges are set by _sticky, not by matplotlib
            axes.grid(alpha=0.3)
            axes.tick_params(labelsize=8)
            # Few tick labels: laying out text is most of a redraw's cost.
            axes.xaxis.set_major_locator(MaxNLocator(5, integer=self._history.x_unit != "row"))
            axes.yaxis.set_major_locator(MaxNLocator(4))
            if base.startswith("#"):
                title = "weights" if base == "#weights" else "gradients (log10 |g|)"
                axes.set_title(title, fontsize=9, y=1.0)
                axes.xaxis.set_major_locator(MaxNLocator(5))
                kind = "weight" if base == "#weights" else "grad_log10"
                for name in names:
                    entry = next(e for e in self._history.histograms if e["name"] == name)
                    artist = axes.stairs(
                        entry[f"{kind}_fractions"],
                        entry[f"{kind}_edges"],
                        label=name,
                        animated=True,
                    )
                    self._histogram_artists[(base, name)] = artist
                    self._animated.append(artist)
                axes.legend(fontsize=7, loc="upper right")
                if base == "#weights":
                    self._step_label = axes.text(
                        0.03, 0.92, "", transform=axes.transAxes, fontsize=7, animated=True
                    )
                    self._animated.append(self._step_label)
                continue
            # An explicit y skips matplotlib's title placement search on every draw.
            axes.set_title(f"{_panel_title(base)} per {self._history.x_unit}", fontsize=9, y=1.0)
            for name in names:
                role = split_name(name)[1]
                (line,) = axes.plot(
                    [], [], styles[role], marker=".", markersize=4, label=name, animated=True
                )
                self._lines[name] = line
                self._animated.append(line)
            if base in ACCURACY_NAMES:
                axes.yaxis.set_major_formatter(PercentFormatter(1.0))
            if len(names) > 1:  # a fixed corner: loc="best" costs a search on every draw
                corner = "lower right" if base in ACCURACY_NAMES else "upper right"
                axes.legend(fontsize=8, loc=corner)
        self._layout_key = layout


def _cell_patch(figure: Figure, axes) -> Rectangle:
    """A white rectangle over a panel's cell: the axes, its tick labels and its title.

    Tick labels of the y axis sit left of the axes, in the gap to the previous panel, so
    a cell spans most of that gap; to the right, room for half an x tick label; below
    and above, room for one line of tick labels and the title. Drawing it blanks the
    cell before the panel is drawn again.
    """
    box = axes.get_position()
    pixel_x = 1 / (figure.get_figwidth() * figure.dpi)
    pixel_y = 1 / (figure.get_figheight() * figure.dpi)
    if axes.get_subplotspec().colspan.start == 0:
        left = 0.0
    else:  # just right of the previous panel's cell (all panels share one width)
        left = box.x0 - figure.subplotpars.wspace * box.width + 11 * pixel_x
    below, above = 18 * pixel_y, 20 * pixel_y
    patch = Rectangle(
        (left, box.y0 - below),
        box.x1 + 10 * pixel_x - left,  # the last x tick label sticks out to the right
        box.height + below + above,
        transform=figure.transFigure,
        facecolor=figure.get_facecolor(),
        edgecolor="none",
        antialiased=False,
    )
    patch.set_figure(figure)
    return patch


def sticky_range(
    current: tuple[float, float],
    values: list[float],
    *,
    log: bool = False,
    margin: float = 0.4,
    bounds: tuple[float | None, float | None] = (None, None),
) -> tuple[float, float] | None:
    """An axis range for ``values`` that changes rarely.

    The current range is kept while it holds every value and is not more than four
    times wider than they need; otherwise the values' range plus ``margin`` of it on
    each side is returned (clipped to ``bounds`` when the values lie inside them).
    """
    finite = [v for v in values if math.isfinite(v) and (v > 0 or not log)]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    if log:
        low, high = math.log10(low), math.log10(high)
        current = tuple(math.log10(c) if c > 0 else -math.inf for c in current)
    span = high - low
    holds = current[0] <= low and high <= current[1]
    if holds and (current[1] - current[0]) <= 4 * max(span, 1e-12):
        result = current
    else:
        pad = margin * span or 0.05 * abs(high) or 0.5
        result = (low - pad, high + pad)
        lower, upper = bounds
        if not log and lower is not None and low >= lower:
            result = (max(result[0], lower), result[1])
        if not log and upper is not None and high <= upper:
            result = (result[0], min(result[1], upper))
    if log:
        result = (10 ** result[0], 10 ** result[1])
    return tuple(float(v) for v in result)
