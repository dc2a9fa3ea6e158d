"""The perceptron: Rosenblatt's learning rule, a model to drive from code, and its playground.

Three layers, each usable on its own:

* :func:`perceptron_update` — one step of the learning rule, a pure function
  (lesson 1 shows it; exercise 1's checks compare students' versions against it);
* :class:`Perceptron` — the model: data, weights, one method per button of the
  playground (``step``, ``epoch``, ``reset``, ``set_weights``) and the bookkeeping that
  says whether training has converged, cycles, or hit its epoch cap;
* :class:`PerceptronPlayground` — a thin ipywidgets view over a ``Perceptron``. Its
  picture is one persistent matplotlib Agg figure (:class:`PerceptronPlot`) encoded to
  PNG, so it also works while a cell runs and on static pages.

The class is the step function's output: ``ŷ = step(w·x + b)`` with ``step(0) = 1``.
The activation chosen in the playground changes the neuron's *output* ``f(w·x + b)``
(drawn as the shading), never the learning rule: that is the perceptron's.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np

from widgets.activations import ACTIVATIONS, step
from widgets.data import make_blobs, make_gate

# Features beyond this size swamp the bias and make the plot unreadable; the message
# tells the student to rescale, instead of letting w·x overflow or the picture go blank.
MAX_ABS_FEATURE = 1e6
MAX_ABS_WEIGHT = 1e6


# --------------------------------------------------------------------------- the rule
def perceptron_update(weights, bias, x, target, learning_rate):
    """One step of Rosenblatt's rule on one sample; returns ``(new_weights, new_bias)``.

    The prediction is ŷ = step(w·x + b), which is 1 when w·x + b >= 0 and 0 otherwise.
    The update is Δw = η (y − ŷ) x and Δb = η (y − ŷ): nothing changes when the
    prediction is right; when it is wrong, the boundary moves towards classifying
    ``x`` correctly. The inputs are not modified.
    """
    weights = np.asarray(weights, dtype=float)
    x = np.asarray(x, dtype=float)
    if weights.shape != x.shape or weights.ndim != 1:
        raise ValueError(
            f"weights {weights.shape} and x {x.shape} must be 1-D arrays of the same "
            "length: one weight per feature"
        )
    if target not in (0, 1):
        raise ValueError(f"target must be 0 or 1 (the step function's outputs), not {target!r}")
    prediction = float(step(weights @ x + bias))
    error = target - prediction  # 0 when right, +1 or -1 when wrong
    return weights + learning_rate * error * x, float(bias + learning_rate * error)


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class StepRecord:
    """What one ``Perceptron.step()`` saw and did (the numbers the playground prints)."""

    epoch: int  # 1 for the first pass over the data
    index: int  # row of the sample in X
    x: np.ndarray
    target: int
    z: float  # w·x + b, before the update
    prediction: int  # step(z)
    output: float  # the chosen activation's f(z)
    delta_weights: np.ndarray
    delta_bias: float

    @property
    def mistake(self) -> bool:
        return self.prediction != self.target


@dataclass(frozen=True)
class TrainingStatus:
    """Where training stands. ``state`` is one of ``STATES``; ``message`` says it in words."""

    state: str
    errors: int  # misclassified samples with the current weights
    accuracy: float
    epochs: int  # full passes over the data completed
    steps: int
    message: str
    cycle: tuple[int, int] | None = None  # (epoch, earlier epoch) that began with equal weights


STATES = ("training", "converged", "cycling", "epoch cap")


# --------------------------------------------------------------------------- validation
def _check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    try:
        X = np.asarray(X, dtype=float)
        y_raw = np.asarray(y)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X and y must be numeric arrays ({error})") from None
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(
            f"X must have shape (n_samples, 2), one row per point with two features "
            f"(the playground draws a plane); got shape {X.shape}"
        )
    if y_raw.shape != (len(X),):
        raise ValueError(f"y must be 1-D with one label per row of X ({len(X)}), got {y_raw.shape}")
    bad_rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad_rows.size:
        raise ValueError(
            f"X has NaN or infinite values in rows {bad_rows[:5].tolist()}"
            f"{' ...' if bad_rows.size > 5 else ''}: drop or fill those rows first"
        )
    largest = float(np.abs(X).max())
    if largest > MAX_ABS_FEATURE:
        raise ValueError(
            f"X has values as large as {largest:.3g}; features this large swamp the bias and "
            f"overflow w·x. Rescale them first, e.g. X = (X - X.mean(0)) / X.std(0)"
        )
    labels = set(np.unique(y_raw).tolist())
    if not labels <= {0, 1}:
        hint = " (labels -1/+1? use (y + 1) // 2)" if labels <= {-1, 1} else ""
        raise ValueError(
            f"y must hold the classes 0 and 1 (the step function's outputs){hint}; "
            f"got {sorted(labels)[:6]}"
        )
    return X, y_raw.astype(np.int64)


def _check_number(name: str, value, *, positive: bool = False, limit: float = MAX_ABS_WEIGHT):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not np.isfinite(number) or abs(number) > limit:
        raise ValueError(f"{name} must be a finite number within ±{limit:g}, not {value!r}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return number


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --------------------------------------------------------------------------- the model
class Perceptron:
    """A single perceptron on 2-D data, trained one sample at a time in a fixed order.

    Every playground button is a method: ``step()`` (one sample), ``epoch()`` (to the
    end of the current pass), ``reset()`` and ``set_weights(w1, w2, b)``. ``status``
    says whether the weights separate the data ("converged"), came back to where an
    earlier epoch began ("cycling": with a fixed order the rule will loop for ever, so
    the data is not linearly separable), or ran ``max_epochs`` without either.
    """

    def __init__(
        self,
        X,
        y,
        *,
        learning_rate: float = 1.0,
        weights=(0.0, 0.0),
        bias: float = 0.0,
        activation: str = "step",
        max_epochs: int = 100,
    ):
        self.X, self.y = _check_data(X, y)
        self.learning_rate = learning_rate
        self.activation = activation
        if int(max_epochs) < 1:
            raise ValueError(f"max_epochs must be at least 1, not {max_epochs!r}")
        self.max_epochs = int(max_epochs)
        w1, w2 = np.asarray(weights, dtype=float).reshape(2)
        self.set_weights(w1, w2, bias)

    # ---- settings
    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._learning_rate = _check_number("learning_rate", value, positive=True, limit=1e3)
        # Cycle detection compares whole epochs run with the same rule.
        self._epoch_start_keys = {}

    @property
    def activation(self) -> str:
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
        self._activation = name

    def set_data(self, X, y) -> None:
        """New data: start a fresh run from the weights the current run started from."""
        self.X, self.y = _check_data(X, y)
        self.reset()

    def set_weights(self, w1: float, w2: float, b: float) -> None:
        """Put the boundary where you want it; training restarts from here."""
        values = [_check_number(name, value) for name, value in (("w1", w1), ("w2", w2), ("b", b))]
        self.start_weights = np.array(values[:2])
        self.start_bias = values[2]
        self.reset()

    def reset(self) -> None:
        """Back to the weights this run started from; forget the training so far."""
        self.weights = self.start_weights.copy()
        self.bias = self.start_bias
        self.position = 0  # the sample step() visits next
        self.epochs = 0  # full passes completed
        self.steps = 0
        self.last_step: StepRecord | None = None
        self.mistakes_per_epoch: list[int] = []
        self.epoch_start_weights = [self.parameters()]  # (w1, w2, b) when each epoch began
        self._mistakes_this_epoch = 0
        self._epoch_start_keys = {self._cycle_key(): 0}
        self.cycle: tuple[int, int] | None = None

    # ---- predictions
    def decision_function(self, X=None) -> np.ndarray:
        """z = w·x + b for each row (the signed distance to the boundary times ‖w‖)."""
        X = self.X if X is None else np.asarray(X, dtype=float)
        return X @ self.weights + self.bias

    def predict(self, X=None) -> np.ndarray:
        """The class of each row: step(w·x + b) as 0/1 integers (the training data by default)."""
        return step(self.decision_function(X)).astype(np.int64)

    def output(self, X=None) -> np.ndarray:
        """The neuron's output f(w·x + b) with the chosen activation f."""
        return ACTIVATIONS[self.activation][0](self.decision_function(X))

    def errors(self) -> int:
        return int(np.sum(self.predict() != self.y))

    # ---- training: one method per button
    def step(self) -> StepRecord:
        """Show the next sample to the rule and update the weights; return what happened."""
        index = self.position
        x, target = self.X[index], int(self.y[index])
        z = float(x @ self.weights + self.bias)
        new_weights, new_bias = perceptron_update(
            self.weights, self.bias, x, target, self.learning_rate
        )
        record = StepRecord(
            epoch=self.epochs + 1,
            index=index,
            x=x.copy(),
            target=target,
            z=z,
            prediction=int(step(z)),
            output=float(ACTIVATIONS[self.activation][0](z)),
            delta_weights=new_weights - self.weights,
            delta_bias=new_bias - self.bias,
        )
        self.weights, self.bias = new_weights, new_bias
        self.steps += 1
        self._mistakes_this_epoch += record.mistake
        self.last_step = record
        self.position += 1
        if self.position == len(self.X):
            self._finish_epoch()
        return record

    def epoch(self) -> list[StepRecord]:
        """Run the samples left in the current pass (a whole pass when at its start)."""
        records = [self.step()]
        while self.position != 0:
            records.append(self.step())
        return records

    def train(self, max_epochs: int | None = None) -> TrainingStatus:
        """Run whole epochs until converged, cycling or ``max_epochs`` (default: the cap)."""
        limit = self.max_epochs if max_epochs is None else int(max_epochs)
        if self.position != 0:
            self.epoch()
        while self.status.state == "training" and self.epochs < limit:
            self.epoch()
        return self.status

    def parameters(self) -> tuple[float, float, float]:
        """(w1, w2, b) as plain floats: what the playground shows and the lesson prints."""
        return (float(self.weights[0]), float(self.weights[1]), float(self.bias))

    def _cycle_key(self) -> tuple[float, ...]:
        # In units of η every update is a sum of ±x, so rounding there ignores the last
        # bits that float addition leaves behind without merging genuinely different weights.
        scaled = np.array(self.parameters()) / self.learning_rate
        return tuple(np.round(scaled, 6) + 0.0)

    def _finish_epoch(self) -> None:
        self.position = 0
        self.epochs += 1
        self.mistakes_per_epoch.append(self._mistakes_this_epoch)
        self._mistakes_this_epoch = 0
        self.epoch_start_weights.append(self.parameters())
        key = self._cycle_key()
        earlier = self._epoch_start_keys.get(key)
        # Same weights at the start of two epochs, fixed sample order: the rule repeats
        # those epochs for ever. With mistakes in between, zero errors is never reached.
        if earlier is not None and self.cycle is None and any(self.mistakes_per_epoch[earlier:]):
            self.cycle = (self.epochs, earlier)
        self._epoch_start_keys.setdefault(key, self.epochs)

    # ---- status
    @property
    def converged(self) -> bool:
        return self.errors() == 0

    @property
    def status(self) -> TrainingStatus:
        errors = self.errors()
        n = len(self.X)
        common = dict(errors=errors, accuracy=1 - errors / n, epochs=self.epochs, steps=self.steps)
        if errors == 0:
            if self.steps == 0:
                message = "converged: these weights already separate the classes (zero errors)"
            else:
                message = (
                    f"converged: zero errors after {_count(self.steps, 'step')} "
                    f"({_count(self.epochs, 'full epoch')})"
                )
            return TrainingStatus("converged", message=message, **common)
        if self.cycle is not None:
            now, earlier = self.cycle
            w1, w2, b = self.epoch_start_weights[now]
            message = (
                f"cycling: epoch {now + 1} starts with the same weights as epoch {earlier + 1} "
                f"(w1={w1:.3g}, w2={w2:.3g}, b={b:.3g}), so the rule repeats itself for ever and "
                f"never reaches zero errors. No straight line separates these classes: a single "
                f"perceptron cannot solve them (a hidden layer can, lesson 2)."
            )
            return TrainingStatus("cycling", message=message, cycle=self.cycle, **common)
        if self.epochs >= self.max_epochs:
            message = (
                f"epoch cap: still {_count(errors, 'error')} after {_count(self.epochs, 'epoch')}. "
                f"The classes are "
                f"probably not linearly separable, so no line can get them all right; a single "
                f"perceptron then never settles."
            )
            return TrainingStatus("epoch cap", message=message, **common)
        return TrainingStatus(
            "training", message=f"training: {errors} of {n} misclassified", **common
        )


# --------------------------------------------------------------------------- drawing
CLASS_COLORS = ("#1f77b4", "#ff7f0e")  # class 0 blue, class 1 orange (matplotlib's C0, C1)
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


_RGB = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in CLASS_COLORS])


def _png(figure) -> bytes:
    """Encode what an Agg figure's canvas holds as PNG (fast zlib level: redraws stay quick)."""
    from PIL import Image

    buffer = figure.canvas.buffer_rgba()
    image = Image.frombuffer("RGBA", buffer.shape[1::-1], buffer, "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


# --------------------------------------------------------------------------- the view
def _fmt(value: float) -> str:
    """A number for the status line: short, without '-0'."""
    text = f"{value:.3g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")


def _vector(values) -> str:
    return "(" + ", ".join(_fmt(v) for v in values) + ")"


class PerceptronPlayground:
    """Play with one neuron: move its weights, step its learning rule, watch the boundary.

    Every control calls one model method (``self.model`` is a :class:`Perceptron`):
    sliders w1, w2, b → ``set_weights``; η → ``learning_rate``; activation →
    ``activation``; data → ``set_data``; Step → ``step()``; Epoch → ``epoch()``;
    Reset → ``reset()``; Play → ``step()`` on every tick until training stops.

    >>> PerceptronPlayground("XOR")          # doctest: +SKIP
    >>> PerceptronPlayground(X=X, y=y)       # your own 2-D data, labels 0/1
    """

    DATASETS = ("AND", "OR", "NAND", "XOR", "blobs")
    OWN_DATA = "your data"
    SLIDER_LIMIT = 5.0  # sliders widen themselves when training goes beyond

    def __init__(
        self,
        data: str = "AND",
        X=None,
        y=None,
        *,
        learning_rate: float = 1.0,
        weights=(0.0, 0.0),
        bias: float = 0.0,
        activation: str = "step",
        max_epochs: int = 100,
        play_interval_ms: int = 400,
    ):
        import ipywidgets as w
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._own_data = None
        choices = list(self.DATASETS)
        if X is not None or y is not None:
            self._own_data = _check_data(X, y)
            choices.append(self.OWN_DATA)
            data = self.OWN_DATA
        if data not in choices:
            raise ValueError(
                f"unknown data {data!r}; choose one of {', '.join(choices)}, "
                "or pass your own X and y"
            )
        self.model = Perceptron(
            *self._dataset(data),
            learning_rate=learning_rate,
            weights=weights,
            bias=bias,
            activation=activation,
            max_epochs=max_epochs,
        )

        self.figure = Figure(figsize=(7.2, 3.8), dpi=80)
        FigureCanvasAgg(self.figure)
        # Fixed margins rather than a layout engine: positions never shift between
        # full redraws, so the cached background always matches the blitted artists.
        ax_plane, ax_activation = self.figure.subplots(
            1,
            2,
            width_ratios=(1.35, 1),
            gridspec_kw=dict(left=0.09, right=0.98, bottom=0.24, top=0.92, wspace=0.25),
        )
        self.plot = PerceptronPlot(ax_plane, ax_activation, legend=False)
        # The legend sits outside the plane, in the static layer that blitting reuses.
        self.figure.legend(
            handles=self.plot.legend_handles,
            loc="lower center",
            ncols=4,
            fontsize=8,
            markerscale=0.8,
            frameon=False,
        )
        for artist in self.plot.dynamic_artists:
            artist.set_animated(True)  # drawn by _render on top of the cached background
        self._background = None

        slider = dict(
            min=-self.SLIDER_LIMIT,
            max=self.SLIDER_LIMIT,
            step=0.1,
            continuous_update=True,
            readout_format=".2f",
            layout=w.Layout(width="320px"),
        )
        self.w1_slider = w.FloatSlider(description="w₁", **slider)
        self.w2_slider = w.FloatSlider(description="w₂", **slider)
        self.b_slider = w.FloatSlider(description="b", **slider)
        self.learning_rate_slider = w.FloatLogSlider(
            value=self.model.learning_rate,
            base=10,
            min=-2,
            max=1,
            step=0.1,
            description="η",
            readout_format=".2g",
            layout=w.Layout(width="320px"),
        )
        self.data_dropdown = w.Dropdown(
            options=choices,
            value=data,
            description="data",
            layout=w.Layout(width="155px"),
            style={"description_width": "initial"},
        )
        self.activation_dropdown = w.Dropdown(
            options=list(ACTIVATIONS),
            value=activation,
            description="activation",
            layout=w.Layout(width="160px"),
            style={"description_width": "initial"},
        )
        self.step_button = w.Button(
            description="Step",
            icon="step-forward",
            tooltip="show the next sample to the learning rule",
        )
        self.epoch_button = w.Button(
            description="Epoch",
            icon="fast-forward",
            tooltip="run the samples left in this pass over the data",
        )
        self.reset_button = w.Button(
            description="Reset", icon="undo", tooltip="back to the weights this run started from"
        )
        # Play ticks in the browser; each tick is one step() in the kernel.
        self.play = w.Play(
            value=0,
            min=0,
            max=10**9,
            interval=play_interval_ms,
            show_repeat=False,
            description="auto-step",
            tooltip="play / pause: one step per tick",
        )
        # The picture shrinks with a narrow notebook; the controls keep their width.
        self.image = w.Image(
            format="png",
            layout=w.Layout(
                width="576px",
                height="auto",
                min_width="0",
                flex="0 1 auto",
                align_self="flex-start",
            ),
        )
        self.status = w.HTML()

        self._syncing = False  # True while the model writes into the sliders
        for control in (self.w1_slider, self.w2_slider, self.b_slider):
            control.observe(self._on_weight_slider, names="value")
        self.learning_rate_slider.observe(self._on_learning_rate, names="value")
        self.data_dropdown.observe(self._on_data, names="value")
        self.activation_dropdown.observe(self._on_activation, names="value")
        self.step_button.on_click(lambda _: self._after_training(self.model.step()))
        self.epoch_button.on_click(lambda _: self._after_training(self.model.epoch()[-1]))
        self.reset_button.on_click(self._on_reset)
        self.play.observe(self._on_play_tick, names="value")

        controls = w.VBox(
            layout=w.Layout(flex="0 0 330px"),
            children=[
                w.HBox([self.data_dropdown, self.activation_dropdown]),
                self.w1_slider,
                self.w2_slider,
                self.b_slider,
                self.learning_rate_slider,
                w.HBox([self.step_button, self.epoch_button, self.reset_button]),
                self.play,
            ],
        )
        self.ui = w.VBox([w.HBox([controls, self.image]), self.status])
        self.ui.add_class("perceptron-playground")
        self.refresh()

    # ---- data
    def _dataset(self, name: str):
        if name == self.OWN_DATA:
            return self._own_data
        if name == "blobs":
            return make_blobs(40, separation=3.0, spread=0.8, seed=0)
        return make_gate(name)

    # ---- handlers (thin: each calls one model method, then refresh)
    def _on_weight_slider(self, change) -> None:
        if self._syncing:
            return
        self.model.set_weights(self.w1_slider.value, self.w2_slider.value, self.b_slider.value)
        self.refresh()

    def _on_learning_rate(self, change) -> None:
        self.model.learning_rate = change["new"]
        self.refresh(highlight=self._highlight())

    def _on_data(self, change) -> None:
        self.model.set_data(*self._dataset(change["new"]))
        self.refresh()

    def _on_activation(self, change) -> None:
        self.model.activation = change["new"]
        self.refresh(highlight=self._highlight())

    def _on_reset(self, _button=None) -> None:
        self.play.playing = False
        self.model.reset()
        self.refresh()

    def _on_play_tick(self, change) -> None:
        if self._syncing or change["new"] <= change["old"]:  # the stop button rewinds to 0
            return
        self._after_training(self.model.step())
        if self.model.status.state != "training":
            self.play.playing = False

    def _after_training(self, record: StepRecord) -> None:
        self.refresh(highlight=record.index)

    def _highlight(self) -> int | None:
        return None if self.model.last_step is None else self.model.last_step.index

    # ---- rendering
    def refresh(self, highlight: int | None = None) -> None:
        """Bring sliders, picture and status text in line with the model."""
        model = self.model
        self._syncing = True
        try:
            with self.w1_slider.hold_sync(), self.w2_slider.hold_sync(), self.b_slider.hold_sync():
                for control, value in zip(
                    (self.w1_slider, self.w2_slider, self.b_slider),
                    model.parameters(),
                    strict=True,
                ):
                    if abs(value) > control.max:  # keep training's weights visible, unclamped
                        control.max, control.min = abs(value) * 1.5, -abs(value) * 1.5
                    control.value = value
        finally:
            self._syncing = False
        static_changed = self.plot.update(model, highlight)
        self.png = self._render(full=static_changed or self._background is None)
        self.image.value = self.png
        self.status.value = self.status_html(highlight is not None)

    def _render(self, full: bool) -> bytes:
        """PNG of the figure. Axes, ticks and legend are drawn once and cached (blitting):
        a weight change only redraws the dynamic artists, which keeps handlers fast."""
        canvas = self.figure.canvas
        if full:
            canvas.draw()  # everything except the animated artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self.plot.dynamic_artists:
            self.figure.draw_artist(artist)
        return _png(self.figure)

    def status_html(self, show_last_step: bool = True) -> str:
        """The status panel: progress, the last step's arithmetic, and the verdict."""
        model, status = self.model, self.model.status
        w1, w2, b = model.parameters()
        n = len(model.X)
        lines = [
            f"<b>{html.escape(self.data_dropdown.value)}</b> · epoch {model.epochs + 1}, "
            f"next sample {model.position + 1} of {n} · errors {status.errors} of {n} · "
            f"accuracy {status.accuracy:.0%} · w = {_vector((w1, w2))}, b = {_fmt(b)}"
        ]
        record = model.last_step
        if show_last_step and record is not None:
            eta = _fmt(model.learning_rate)
            lines.append(
                f"sample {record.index + 1}: x = {_vector(record.x)}, y = {record.target} · "
                f"w·x + b = {_fmt(record.z)} → ŷ = step({_fmt(record.z)}) = {record.prediction}"
                f" · {model.activation}(z) = {_fmt(record.output)}"
            )
            lines.append(
                f"Δw = η(y − ŷ)x = {eta}·({record.target} − {record.prediction})·"
                f"{_vector(record.x)} = {_vector(record.delta_weights)}, "
                f"Δb = {_fmt(record.delta_bias)}"
                + ("" if record.mistake else "  (right answer: no change)")
            )
        colour = {"converged": "green", "training": "inherit"}.get(status.state, "firebrick")
        lines.append(f"<span style='color:{colour}'><b>{html.escape(status.message)}</b></span>")
        return "<div class='perceptron-status'>" + "<br>".join(lines) + "</div>"

    def __repr__(self) -> str:
        w1, w2, b = self.model.parameters()
        return (
            f"PerceptronPlayground(data={self.data_dropdown.value!r}, "
            f"w1={w1:.3g}, w2={w2:.3g}, b={b:.3g})"
        )

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a PNG and a short text for pages without a kernel."""
        bundle = dict(self.ui._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle
