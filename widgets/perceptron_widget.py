"""``PerceptronPlayground``: the ipywidgets view of a ``Perceptron``.

Sliders, buttons and a picture over one :class:`~widgets.perceptron.Perceptron`. Every
handler calls one model method and redraws; the picture is one persistent matplotlib
Agg figure (:class:`~widgets.perceptron_plot.PerceptronPlot`) blitted and encoded to
PNG (:mod:`widgets.display`), so it also updates while a cell runs and shows on static
pages. (Issue 17: the handlers' treatment of out-of-range model values lives here.)
"""

from __future__ import annotations

import html

from widgets.activations import ACTIVATIONS
from widgets.display import canvas_png, widget_bundle
from widgets.perceptron import Perceptron, StepRecord, check_data
from widgets.perceptron_plot import PerceptronPlot
from widgets.toy_data import make_blobs, make_gate


def _fmt(value: float) -> str:
    """A number for the status line: short, without '-0'."""
    text = f"{value:.3g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")


def _vector(values) -> str:
    return "(" + ", ".join(_fmt(v) for v in values) + ")"


class PerceptronPlayground:
    """Play with one neuron: move its weights, step its learning rule, watch the boundary.

    Every control calls one model method (``self.model`` is a :class:`Perceptron`):
    sliders w1, w2, b → ``set_weights``; η → ``lr``; activation →
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
        lr: float = 1.0,
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
            self._own_data = check_data(X, y)
            choices.append(self.OWN_DATA)
            data = self.OWN_DATA
        if data not in choices:
            raise ValueError(
                f"unknown data {data!r}; choose one of {', '.join(choices)}, "
                "or pass your own X and y"
            )
        self.model = Perceptron(
            *self._dataset(data),
            lr=lr,
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
        self.lr_slider = w.FloatLogSlider(
            value=self.model.lr,
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
        self.lr_slider.observe(self._on_lr, names="value")
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
                self.lr_slider,
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
    def _apply(self, action, *, keep_highlight: bool = False) -> None:
        """Run one model method for a control, then redraw. A value the model refuses
        (a weight beyond its limit, say) is reported in the status line and the controls
        go back to the model's values: nothing is raised into the browser."""
        highlight = self._highlight() if keep_highlight else None
        try:
            action()
        except ValueError as error:
            self.refresh(highlight=highlight)
            self.status.value += (
                f"<div class='perceptron-refused' style='color:firebrick'>Not applied: "
                f"{html.escape(str(error))}. The controls show the model's values again; "
                "Reset starts over.</div>"
            )
            return
        self.refresh(highlight=highlight)

    def _on_weight_slider(self, change) -> None:
        if self._syncing:
            return
        values = (self.w1_slider.value, self.w2_slider.value, self.b_slider.value)
        self._apply(lambda: self.model.set_weights(*values))

    def _on_lr(self, change) -> None:
        def set_rate():
            self.model.lr = change["new"]

        self._apply(set_rate, keep_highlight=True)

    def _on_data(self, change) -> None:
        self._apply(lambda: self.model.set_data(*self._dataset(change["new"])))

    def _on_activation(self, change) -> None:
        def set_activation():
            self.model.activation = change["new"]

        self._apply(set_activation, keep_highlight=True)

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
        return canvas_png(self.figure.canvas)

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
            eta = _fmt(model.lr)
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
        return widget_bundle(self.ui, self.png, repr(self), **kwargs)
