"""Drawing a perceptron: persistent matplotlib artists that follow a ``Perceptron``.

:class:`PerceptronPlot` works on any axes (lesson 1's figures) and inside the playground
(:mod:`widgets.perceptron_widget`), which renders it to PNG. It reads the model and
never changes it.
"""

from __future__ import annotations

import numpy as np

from widgets.activations import ACTIVATIONS
from widgets.decision_regions import POINT_COLOURS
from widgets.perceptron import Perceptron

CLASS_COLORS = POINT_COLOURS[:2]  # class 0 blue, class 1 orange, as in every class plot
_RGB = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in CLASS_COLORS])
ACTIVATION_Z_RANGE = 6.0
_ACTIVATION_YLIM = {
    "step": (-0.15, 1.15),
    "sigmoid": (-0.15, 1.15),
    "tanh": (-1.2, 1.2),
    "relu": (-0.5, ACTIVATION_Z_RANGE),
}


def _shading_strength(activation: str, z: np.ndarray) -> np.ndarray:
    """How strongly the neuron 'fires' its predicted class at z, from 0 to 1.

    A step is all or nothing; sigmoid and tanh fade out towards the boundary; ReLU
    outputs nothing on the class-0 side and grows without bound on the other.
    """
    if activation == "step":
        return np.ones_like(z)
    if activation == "sigmoid":
        return np.abs(2 * ACTIVATIONS["sigmoid"][0](z) - 1)
    if activation == "tanh":
        return np.abs(np.tanh(z))
    rectified = np.maximum(z, 0)
    return rectified / max(float(rectified.max()), 1e-12)


class PerceptronPlot:
    """Persistent artists showing a ``Perceptron``: call ``update(model)`` after each change.

    Works on any axes (the lesson's figures) and inside the playground, which renders
    it to PNG. Nothing is cleared or re-created on update, which keeps redraws fast.
    """

    GRID = 90  # shading resolution per side

    def __init__(self, ax_plane, ax_activation=None, *, legend: bool = True):
        from matplotlib.lines import Line2D

        self.ax, self.ax_activation = ax_plane, ax_activation
        self._shading = ax_plane.imshow(
            np.zeros((2, 2, 4)), origin="lower", zorder=0, interpolation="bilinear", aspect="auto"
        )
        self.boundary_line = Line2D([], [], color="black", lw=1.5, zorder=2)
        ax_plane.add_line(self.boundary_line)
        self._arrow = ax_plane.quiver(
            [0],
            [0],
            [1],
            [0],
            angles="xy",
            scale_units="xy",
            scale=1,
            color="black",
            width=0.012,
            zorder=4.5,
        )
        self._arrow_label = ax_plane.text(0, 0, "w", fontsize=11, fontweight="bold", zorder=4.5)
        self._points = [
            ax_plane.scatter(
                [],
                [],
                s=60,
                marker=marker,
                color=color,
                edgecolor="white",
                zorder=4,
                label=f"class {label}",
            )
            for label, (marker, color) in enumerate(zip("os", CLASS_COLORS, strict=True))
        ]
        self._wrong = ax_plane.scatter(
            [], [], s=260, facecolor="none", edgecolor="red", lw=2, zorder=5, label="misclassified"
        )
        self._current = ax_plane.scatter(
            [],
            [],
            s=480,
            facecolor="none",
            edgecolor="gold",
            lw=3,
            zorder=6,
            label="this step's sample",
        )
        ax_plane.set_xlabel("$x_1$")
        ax_plane.set_ylabel("$x_2$")
        self.legend_handles = [*self._points, self._wrong, self._current]
        if legend:  # a static picture: no step, so no "this step's sample"
            ax_plane.legend(
                handles=self.legend_handles[:3],
                loc="best",
                fontsize=7,
                framealpha=0.85,
                markerscale=0.6,
            )
        self._data = None
        self._curve_marker = None
        if ax_activation is not None:
            z = np.linspace(-ACTIVATION_Z_RANGE, ACTIVATION_Z_RANGE, 241)
            self._curve_z = z
            (self._curve,) = ax_activation.plot(z, z, color="black", lw=2)
            (self._curve_marker,) = ax_activation.plot(
                [], [], "o", color="gold", mec="black", ms=9, zorder=3
            )
            ax_activation.axvline(0, color="grey", lw=0.8, ls="--")
            ax_activation.axhline(0, color="grey", lw=0.8)
            ax_activation.set_xlim(z[0], z[-1])
            ax_activation.set_xlabel("$z = w \\cdot x + b$")
            self._activation_name = None

    def _set_data(self, X: np.ndarray, y: np.ndarray) -> None:
        for label, points in enumerate(self._points):
            points.set_offsets(X[y == label] if np.any(y == label) else np.empty((0, 2)))
        # A square view with equal scales, so the weight vector looks normal to the line.
        center = (X.min(axis=0) + X.max(axis=0)) / 2
        half = max(float(np.ptp(X, axis=0).max()) / 2, 0.5) * 1.35
        self.limits = (center[0] - half, center[0] + half, center[1] - half, center[1] + half)
        x0, x1, y0, y1 = self.limits
        self.ax.set_xlim(x0, x1)
        self.ax.set_ylim(y0, y1)
        self.ax.set_aspect("equal", adjustable="box")
        self._shading.set_extent(self.limits)
        gx, gy = np.meshgrid(np.linspace(x0, x1, self.GRID), np.linspace(y0, y1, self.GRID))
        self._grid = np.c_[gx.ravel(), gy.ravel()]

    @property
    def dynamic_artists(self) -> list:
        """The artists ``update`` changes when only the weights move, bottom to top."""
        artists = [
            self._shading,
            self.boundary_line,
            *self._points,
            self._arrow,
            self._arrow_label,
            self._wrong,
            self._current,
        ]
        return artists + ([self._curve_marker] if self._curve_marker is not None else [])

    def update(self, model: Perceptron, highlight: int | None = None) -> bool:
        """Show the model's current weights; ``highlight`` rings one sample.

        Returns True when more than the dynamic artists changed (new data: new limits
        and ticks; new activation: new curve and title), i.e. a blitting caller must
        redraw the whole figure.
        """
        static_changed = False
        if self._data is None or self._data[0] is not model.X or self._data[1] is not model.y:
            self._set_data(model.X, model.y)
            self._data = (model.X, model.y)  # holding them keeps `is` meaningful
            static_changed = True
        self._update_shading(model)
        self._update_boundary(model.weights, model.bias)
        wrong = model.predict() != model.y
        self._wrong.set_offsets(model.X[wrong] if wrong.any() else np.empty((0, 2)))
        self._current.set_offsets(
            model.X[[highlight]] if highlight is not None else np.empty((0, 2))
        )
        if self.ax_activation is not None:
            static_changed |= self._update_activation(model, highlight)
        return static_changed

    def _update_shading(self, model: Perceptron) -> None:
        z = self._grid @ model.weights + model.bias
        strength = _shading_strength(model.activation, z)
        colors = np.where((z >= 0)[:, None], _RGB[1], _RGB[0])
        rgba = np.empty((len(z), 4))
        rgba[:, :3] = colors
        rgba[:, 3] = 0.45 * strength
        self._shading.set_data(rgba.reshape(self.GRID, self.GRID, 4))

    def _update_boundary(self, weights: np.ndarray, bias: float) -> None:
        w1, w2 = weights
        norm = float(np.hypot(w1, w2))
        x0, x1, y0, y1 = self.limits
        if norm < 1e-12:  # no boundary: every point gets the same class
            self.boundary_line.set_data([], [])
            self._arrow.set_visible(False)
            self._arrow_label.set_visible(False)
            return
        if abs(w2) >= abs(w1):
            xs = np.array([x0, x1])
            ys = -(w1 * xs + bias) / w2
        else:
            ys = np.array([y0, y1])
            xs = -(w2 * ys + bias) / w1
        self.boundary_line.set_data(xs, ys)
        # The weight vector touches the boundary at the point nearest the view's centre,
        # with a fixed length: its direction is what matters. It starts there; when that
        # would leave the view, it ends there instead (same direction, other side).
        center = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        foot = center - (center @ weights + bias) / norm**2 * weights
        arrow = weights / norm * 0.18 * (x1 - x0)
        tip = foot + arrow
        tail = foot if (x0 <= tip[0] <= x1 and y0 <= tip[1] <= y1) else foot - arrow
        self._arrow.set_offsets([tail])
        self._arrow.set_UVC([arrow[0]], [arrow[1]])
        self._arrow_label.set_position(tail + 1.2 * arrow + 0.03 * (x1 - x0))
        self._arrow.set_visible(True)
        self._arrow_label.set_visible(True)

    def _update_activation(self, model: Perceptron, highlight: int | None) -> bool:
        function = ACTIVATIONS[model.activation][0]
        changed = model.activation != self._activation_name
        if changed:
            self._curve.set_ydata(function(self._curve_z))
            self.ax_activation.set_ylim(*_ACTIVATION_YLIM[model.activation])
            self.ax_activation.set_title(f"activation: {model.activation}(z)", fontsize=10)
            self._activation_name = model.activation
        if highlight is None:
            self._curve_marker.set_data([], [])
        else:
            z = float(model.decision_function(model.X[[highlight]])[0])
            shown = float(np.clip(z, -ACTIVATION_Z_RANGE, ACTIVATION_Z_RANGE))
            self._curve_marker.set_data([shown], [float(function(z))])
        return changed
