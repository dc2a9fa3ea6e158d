"""NetworkPlayground: TensorFlow Playground in the notebook, over the course's NumPy network.

A thin ipywidgets view over :class:`widgets.playground_model.PlaygroundModel`: every
control calls one model method, then :meth:`NetworkPlayground.refresh` redraws one
persistent matplotlib Agg figure (:class:`PlaygroundPicture`) and sends it as a PNG to a
``widgets.Image``. Play is the front end's ``ipywidgets.Play`` timer: each tick runs a
short training chunk and one redraw, and returns, so the kernel stays free for other
cells and widgets between ticks. Without a kernel the notebook shows the last picture.

>>> playground = NetworkPlayground(dataset="spiral", hidden=(8, 8))   # doctest: +SKIP
>>> playground.model.run(epochs=100)   # driven from code, the picture follows
"""

from __future__ import annotations

import html
import time

import numpy as np

from widgets.display import canvas_png, widget_bundle
from widgets.playground_data import CLASSIFICATION_DATA
from widgets.playground_model import (
    ACTIVATIONS,
    DATASETS,
    FEATURES,
    REGULARIZATIONS,
    PlaygroundModel,
)
from widgets.playground_picture import FEATURE_LABELS, PlaygroundPicture

# --------------------------------------------------------------------------- the view
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


class NetworkPlayground:
    """Train a small network on 2-D toy data and watch every unit while it learns.

    Each control calls one method of ``self.model`` (a :class:`PlaygroundModel`) and then
    :meth:`refresh`: Play/Step → ``run``/``step``; Reset → ``reset``; + layer / − layer →
    ``add_layer``/``remove_layer``; the +/− under a layer → ``add_unit``/``remove_unit``;
    feature toggles → ``toggle_feature``; everything else → ``set(...)``. "Show me the
    code" prints ``to_numpy_code()`` and ``to_torch_code()``. Keyword arguments are the
    model's settings (see ``PlaygroundModel``); or pass a ``model`` you have trained.
    """

    TRAIN_MS_PER_TICK = 12  # training time per Play tick; the redraw takes about twice that
    REFRESH_EVERY_S = 0.2  # redraws while a cell trains the model

    def __init__(
        self, model: PlaygroundModel | None = None, *, play_interval_ms: int = 50, **settings
    ):
        import ipywidgets as w

        if model is not None and settings:
            raise ValueError("pass either a model or settings for a new one, not both")
        self.model = model if model is not None else PlaygroundModel(**settings)
        self.picture = PlaygroundPicture()
        self._epochs_per_tick = 1
        self._last_tick_end = 0.0
        self._play_interval_s = play_interval_ms / 1000
        self._syncing = False
        self._shown_hidden = None
        self._handling = False  # True while a control's handler changes the model
        self._last_refresh = 0.0

        narrow = dict(layout=w.Layout(width="200px"), style={"description_width": "80px"})
        model = self.model
        self.play = w.Play(
            value=0,
            min=0,
            max=10**9,
            interval=play_interval_ms,
            show_repeat=False,
            description="play",
            tooltip="play / pause: train a few epochs per tick",
        )
        self.step_button = w.Button(description="Step", icon="step-forward", tooltip="one epoch")
        self.reset_button = w.Button(description="Reset", icon="undo", tooltip="fresh weights")
        self.status = w.HTML()
        self.message = w.HTML()
        self.dataset = w.Dropdown(
            options=[(_dataset_label(name), name) for name in DATASETS],
            value=model.dataset,
            description="data",
            **narrow,
        )
        # Sliders act on release: each value regenerates data or changes training.
        slider = dict(continuous_update=False, **narrow)
        self.noise = w.FloatSlider(
            value=model.noise, min=0, max=1, step=0.05, description="noise", **slider
        )
        self.train_fraction = w.FloatSlider(
            value=model.train_fraction,
            min=0.1,
            max=0.9,
            step=0.1,
            description="train share",
            readout_format=".0%",
            **slider,
        )
        self.show_test = w.Checkbox(value=True, description="show test data", indent=False)
        self.feature_toggles = {
            name: w.ToggleButton(
                value=name in model.features,
                description=FEATURE_LABELS[name],
                layout=w.Layout(width="64px"),
            )
            for name in FEATURES
        }
        self.add_layer_button = w.Button(description="+ layer", layout=w.Layout(width="80px"))
        self.remove_layer_button = w.Button(description="− layer", layout=w.Layout(width="80px"))
        self.units_box = w.HBox()
        self.activation = w.Dropdown(
            options=list(ACTIVATIONS), value=model.activation, description="activation", **narrow
        )
        self.lr = w.Dropdown(
            options=_options(LEARNING_RATES, model.lr),
            value=model.lr,
            description="learning rate",
            **narrow,
        )
        self.batch_size = w.IntSlider(
            value=model.batch_size, min=1, max=64, description="batch size", **slider
        )
        self.regularization = w.Dropdown(
            options=REGULARIZATIONS, value=model.regularization, description="regularise", **narrow
        )
        self.regularization_rate = w.Dropdown(
            options=_options(REGULARIZATION_RATES, model.regularization_rate),
            value=model.regularization_rate,
            description="reg. rate",
            **narrow,
        )
        self.dropout = w.FloatSlider(
            value=model.dropout, min=0, max=0.9, step=0.05, description="dropout", **slider
        )
        self.code_button = w.Button(description="Show me the code", icon="code")
        self.code_output = w.Output()
        self.image = w.Image(
            format="png", layout=w.Layout(width="800px", height="auto", min_width="0")
        )

        self.play.observe(self._on_tick, names="value")
        self.step_button.on_click(lambda _: self._do(self.model.step))
        self.reset_button.on_click(self._on_reset)
        for name in SETTING_CONTROLS:
            getattr(self, name).observe(self._on_setting, names="value")
        self.show_test.observe(lambda _: self.refresh(), names="value")
        for name, toggle in self.feature_toggles.items():
            toggle.observe(lambda _, name=name: self._on_feature(name), names="value")
        self.add_layer_button.on_click(lambda _: self._do(self.model.add_layer))
        self.remove_layer_button.on_click(lambda _: self._do(self.model.remove_layer))
        self.code_button.on_click(self.show_code)

        self.ui = w.VBox(
            [
                w.HBox([self.play, self.step_button, self.reset_button, self.status]),
                w.HBox([self.dataset, self.noise, self.train_fraction, self.show_test]),
                w.HBox([w.Label("features"), *self.feature_toggles.values()]),
                w.HBox([self.add_layer_button, self.remove_layer_button, self.units_box]),
                w.HBox([self.activation, self.lr, self.batch_size]),
                w.HBox([self.regularization, self.regularization_rate, self.dropout]),
                self.message,
                self.image,
                self.code_button,
                self.code_output,
            ]
        )
        self.ui.add_class("network-playground")
        self.status.add_class("playground-status")
        self.refresh()
        self.model.observe(self._on_model_change)

    # ---- handlers: each calls one model method, then refresh
    def _do(self, method, *args) -> None:
        """Run a model method; a refusal (a seventh layer, say) is shown, not raised."""
        self._handling = True
        try:
            method(*args)
        except ValueError as error:
            self.message.value = f"<span style='color:firebrick'>{html.escape(str(error))}</span>"
        else:
            self.message.value = ""
        finally:
            self._handling = False
        self.refresh()

    def _on_model_change(self, event: str) -> None:
        """The model was driven from code (``playground.model.run(...)`` in a cell): redraw,
        at most every REFRESH_EVERY_S while epochs run, and always when a run ends."""
        if self._handling:
            return  # the control's handler redraws once when it is done
        if event == "epoch" and time.monotonic() - self._last_refresh < self.REFRESH_EVERY_S:
            return
        self.refresh()

    def _on_setting(self, change) -> None:
        if self._syncing:
            return
        name = next(n for n in SETTING_CONTROLS if getattr(self, n) is change["owner"])
        self._do(lambda: self.model.set(**{name: change["new"]}))

    def _on_feature(self, name: str) -> None:
        if not self._syncing:
            self._do(self.model.toggle_feature, name)

    def _on_reset(self, _button=None) -> None:
        self.play.playing = False
        self._do(self.model.reset)

    def _on_tick(self, change) -> None:
        """One Play tick: a training chunk sized to TRAIN_MS_PER_TICK, then one redraw."""
        if change["new"] <= change["old"]:  # the stop button rewinds to 0
            return
        # Ticks that queued up while the kernel was busy arrive back to back: skip them,
        # so pausing takes effect at once instead of after a backlog.
        if time.monotonic() - self._last_tick_end < self._play_interval_s / 4:
            return
        started = time.perf_counter()
        self._handling = True
        try:
            self.model.run(epochs=self._epochs_per_tick)
        finally:
            self._handling = False
        per_epoch_ms = (time.perf_counter() - started) * 1000 / self._epochs_per_tick
        self._epochs_per_tick = int(
            np.clip(self.TRAIN_MS_PER_TICK / max(per_epoch_ms, 1e-3), 1, 50)
        )
        self.refresh()
        self._last_tick_end = time.monotonic()

    def show_code(self, _button=None) -> None:
        """Print this configuration as runnable numpy_nn code and as PyTorch code."""
        with self.code_output:
            self.code_output.clear_output()  # once per press, never in a loop
            print("# ---- the course's NumPy network (widgets.numpy_nn)\n")
            print(self.model.to_numpy_code())
            print("# ---- the same in PyTorch\n")
            print(self.model.to_torch_code())

    # ---- rendering
    def refresh(self) -> None:
        """Bring controls, picture and status in line with the model."""
        self._sync_controls()
        self.picture.update(self.model, self.show_test.value)
        self.png = canvas_png(self.picture.figure.canvas)
        self.status.value = self.status_html()
        self.image.value = self.png
        self._last_refresh = time.monotonic()

    def _sync_controls(self) -> None:
        """Show the model's settings in the controls (they may have been set from code)."""
        import ipywidgets as w

        model = self.model
        self._syncing = True  # the observers below must not echo these changes back
        try:
            for name in SETTING_CONTROLS:
                control, value = getattr(self, name), model.settings[name]
                rate = name in ("lr", "regularization_rate")
                if rate and value not in control.options:  # a rate set from code
                    control.options = _options(control.options, value)
                if isinstance(control, (w.IntSlider, w.FloatSlider)) and value > control.max:
                    control.max = value  # set from code beyond the slider's usual range
                control.value = value
            for name, toggle in self.feature_toggles.items():
                toggle.value = name in model.features
        finally:
            self._syncing = False
        if model.hidden != self._shown_hidden:  # new widgets only when the layers changed
            self.units_box.children = [
                self._unit_buttons(layer, units) for layer, units in enumerate(model.hidden)
            ]
            self._shown_hidden = model.hidden

    def _unit_buttons(self, layer: int, units: int):
        import ipywidgets as w

        narrow = w.Layout(width="28px")
        minus = w.Button(
            description="−", layout=narrow, tooltip=f"one unit less in layer {layer + 1}"
        )
        plus = w.Button(
            description="+", layout=narrow, tooltip=f"one unit more in layer {layer + 1}"
        )
        minus.on_click(lambda _: self._do(self.model.remove_unit, layer))
        plus.on_click(lambda _: self._do(self.model.add_unit, layer))
        return w.HBox([w.Label(f"layer {layer + 1}: {units}"), minus, plus])

    def status_html(self) -> str:
        record = self.model.evaluate()
        test_loss = f"test loss {record['test_loss']:.3f}"
        accuracy = (
            f" · test accuracy {record['test_accuracy']:.0%}"
            if record["test_accuracy"] is not None
            else ""
        )
        return (
            f"<span class='playground-epoch'>epoch {self.model.epoch}</span> · "
            f"train loss {record['train_loss']:.3f} · "
            f"<span class='playground-test-loss'>{test_loss}</span>{accuracy}"
        )

    def __repr__(self) -> str:
        return f"NetworkPlayground({self.model!r})"

    def _repr_mimebundle_(self, **kwargs):
        return widget_bundle(self.ui, self.png, repr(self), **kwargs)


SETTING_CONTROLS = (
    "dataset",
    "noise",
    "train_fraction",
    "activation",
    "lr",
    "batch_size",
    "regularization",
    "regularization_rate",
    "dropout",
)


def _dataset_label(name: str) -> str:
    return name if name in CLASSIFICATION_DATA else f"{name} (regression)"


def _options(choices: tuple, current: float) -> list:
    """A dropdown's choices, with the current value added when it is not one of them."""
    return sorted({*choices, current})
