"""``TrainingMonitor``: live training curves for any loop, NumPy or PyTorch.

One call per epoch (or per step) records the numbers::

    monitor = TrainingMonitor()
    with monitor:                               # an interrupt ends training cleanly
        for epoch in monitor.range(1, 11):      # progress bar and ETA
            ...
            monitor.log(epoch=epoch, loss=..., val_loss=..., acc=..., val_acc=..., lr=...)

``widgets.torch_training.fit(..., monitor=monitor)`` does exactly this.

How it stays live while the cell runs: the browser cannot send messages to a busy
kernel, but the kernel can send to the browser. The monitor keeps one matplotlib
figure (Agg, never pyplot), updates its lines with ``set_data``, encodes it as PNG and
assigns the bytes to an ``ipywidgets.Image``; the browser swaps the picture in place,
without ``clear_output`` and without flicker. Redraws are throttled by time: at most
one every ``min_interval`` seconds (0.2 s), and only while the monitor's own time stays
within ``max_overhead`` (2 %) of the time since training started. The clock is
injectable, so tests can count renders.

Series are paired by name: ``loss``/``val_loss`` (also ``train_``, ``valid_``, ``test_``
prefixes) share a panel; ``acc``/``accuracy`` get a percentage panel, ``lr`` a
learning-rate panel. ``monitor.watch(model)`` adds weight and gradient histograms,
sampled every ``watch_every`` backward passes. NaN, inf or a training loss far above its
best so far is flagged (and with ``stop_on_divergence=True`` ends the loop).

Where no browser renders widgets (a script, a terminal), the monitor prints one line
per update instead. The history is plain data (:attr:`TrainingMonitor.history`), and
the monitor's display always carries a PNG, so static pages show the final figure.

Three files, one job each: :mod:`widgets.training_history` records the numbers (no
drawing), :mod:`widgets.monitor_figure` draws them, and this module decides when to
draw and where the picture goes (widget, printed lines), and runs the loop helpers.
"""

from __future__ import annotations

import contextlib
import html
import time
from collections.abc import Callable, Iterable, Iterator

from widgets.display import widget_bundle
from widgets.monitor_figure import MonitorFigure
from widgets.training_history import Flag, TrainingHistory, format_value, split_name

__all__ = ["Flag", "MonitorFigure", "TrainingHistory", "TrainingMonitor", "split_name"]

TEXT_PLAIN = "TrainingMonitor (training curves; a live picture in Jupyter)"


class TrainingMonitor:
    """Live training curves, progress, divergence flags and a summary for any loop.

    Parameters
    ----------
    view:
        ``"auto"`` (a live widget inside a Jupyter kernel, printed lines elsewhere),
        ``"widget"``, ``"text"`` or ``"none"`` (record only).
    min_interval:
        Seconds between two redraws at least; updates in between are drawn later.
    max_overhead:
        Fraction of the run the monitor may cost. A redraw happens only when the time
        spent in the monitor so far, plus two redraws (this one and one kept in reserve
        for the final picture), fits in this fraction of the time since the start. The
        first row is drawn at once, whatever it costs.
    divergence_factor:
        A training loss above ``divergence_factor`` times its best value so far is
        flagged (NaN and inf always are).
    stop_on_divergence:
        When True, a flag sets :attr:`should_stop` and ends :meth:`range`/:meth:`track`.
    reraise_interrupt:
        When False (default) an interrupt inside ``with monitor:`` ends the block
        cleanly, keeping the history; when True it is recorded and raised again.
    watch_every:
        :meth:`watch` samples histograms every this many backward passes.
    clock:
        A function returning seconds (``time.perf_counter``); tests pass a fake one.
    display:
        Show the view automatically on the first update (or ``with``); False leaves
        it to you (``display(monitor)``).
    figure:
        The :class:`~widgets.monitor_figure.MonitorFigure` that draws the history (a new
        one ``figure_width`` inches wide by default).

    The numbers live in :attr:`training_history` (a
    :class:`~widgets.training_history.TrainingHistory`); ``history``, ``series``,
    ``panels``, ``summary``, ``flags`` and ``stopped_reason`` read from it.
    """

    def __init__(
        self,
        *,
        view: str = "auto",
        min_interval: float = 0.2,
        max_overhead: float = 0.02,
        divergence_factor: float = 5.0,
        stop_on_divergence: bool = False,
        reraise_interrupt: bool = False,
        watch_every: int = 50,
        clock: Callable[[], float] = time.perf_counter,
        display: bool = True,
        title: str | None = None,
        figure_width: float = 10.0,
        figure: MonitorFigure | None = None,
    ):
        if view not in ("auto", "widget", "text", "none"):
            raise ValueError(f"view must be 'auto', 'widget', 'text' or 'none', not {view!r}")
        if min_interval < 0 or not 0 < max_overhead <= 1:
            raise ValueError(
                "min_interval must be >= 0 seconds and max_overhead a fraction in (0, 1]; "
                f"got {min_interval!r} and {max_overhead!r}"
            )
        if watch_every < 1:
            raise ValueError(f"watch_every must be at least 1, got {watch_every!r}")
        if view == "auto":
            view = "widget" if _in_jupyter_kernel() else "text"
        self.training_history = TrainingHistory(divergence_factor)
        self.figure = figure if figure is not None else MonitorFigure(figure_width)
        self.view = view
        self.min_interval = min_interval
        self.max_overhead = max_overhead
        self.stop_on_divergence = stop_on_divergence
        self.reraise_interrupt = reraise_interrupt
        self.watch_every = watch_every
        self.title = title
        self.should_stop = False
        self._clock = clock
        self._auto_display = display
        self._hooks: list = []
        self._watched_steps: dict[str, int] = {}

        # progress of range()/track()
        self._x_span: tuple[float, float] | None = None  # the epochs range() will cover
        self.total: int | None = None
        self.completed = 0
        self._position = 0  # the iteration of track()/range() under way, counting from 1
        self._started_at: float | None = None
        self._finished = False

        # when to draw
        self.render_count = 0
        self.seconds_inside = 0.0  # time spent in the monitor's own code (for the benchmark)
        self._timing = False
        self._last_render: float | None = None
        self._render_cost = 0.0  # seconds the last redraw took: the next one's estimate
        self._last_status: float | None = None
        self._last_text: float | None = None
        self._dirty = False
        self._png: bytes | None = None

        self._widget = None
        self._image = None
        self._status = None
        self._handle = None
        if self.view == "widget":
            self._build_widget()

    # ------------------------------------------------------------------ recording
    def log(self, epoch: float | None = None, step: float | None = None, **metrics) -> None:
        """Record one row of numbers, e.g. ``log(epoch=3, loss=0.41, val_loss=0.47, lr=1e-3)``.

        The x position is ``epoch`` if given, else ``step``, else the number of the call.
        Any names work; ``val_``/``train_``/``test_`` prefixes pair series in one panel.
        Numbers may be Python or NumPy floats, or one-element tensors; ``None`` values are
        skipped, so a record without validation numbers can be passed as it is.
        """
        with self._own_time():
            self._start()
            for flag in self.training_history.log(epoch, step, **metrics):
                self._on_flag(flag)
            self._dirty = True
            self._update_views(self._clock())

    @contextlib.contextmanager
    def _own_time(self):
        """Add the time spent in the block to :attr:`seconds_inside` (once when nested)."""
        if self._timing:
            yield
            return
        self._timing = True
        started = self._clock()
        try:
            yield
        finally:
            self.seconds_inside += self._clock() - started
            self._timing = False

    def _on_flag(self, flag: Flag) -> None:
        if self.stop_on_divergence:
            self.should_stop = True
        self._last_render = None  # a flag is drawn at once, whatever the throttle says
        if self.view == "text":
            print(f"⚠ diverging: {flag.reason}")

    # ------------------------------------------------------------------ plain data
    @property
    def history(self) -> list[dict]:
        """Every logged row, as a list of plain dicts (copies)."""
        return self.training_history.rows

    @property
    def flags(self) -> list[Flag]:
        return self.training_history.flags

    @property
    def histograms(self) -> list[dict]:
        return self.training_history.histograms

    @property
    def stopped_reason(self) -> str | None:
        """Why training ended early, e.g. "stopped at epoch 3 (interrupted)"; else None."""
        return self.training_history.stopped_reason

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """The ``(x values, y values)`` logged for ``name``."""
        return self.training_history.series(name)

    def panels(self) -> dict[str, list[str]]:
        """Series grouped by panel, e.g. ``{"loss": ["loss", "val_loss"], "lr": ["lr"]}``."""
        return self.training_history.panels()

    def summary(self) -> dict:
        """Plain data: rows, best row, last row, flags and why training stopped."""
        return self.training_history.summary()

    def summary_text(self) -> str:
        """The summary in a few lines of text, the same on every run of a seeded notebook."""
        return self.training_history.summary_text()

    # ------------------------------------------------------------------ loops
    def range(self, *args: int) -> Iterator[int]:
        """Like ``range(...)``, counting the iterations for the progress bar and ETA.

        When the rows are logged with ``epoch=`` these numbers, the x axis spans the whole
        run from the start, so the curves grow towards a visible end.
        """
        numbers = range(*args)
        self._x_span = (numbers[0], numbers[-1]) if len(numbers) else None
        return self.track(numbers)

    def track(self, iterable: Iterable, total: int | None = None) -> Iterator:
        """Iterate over ``iterable`` with a progress bar and an ETA.

        Stops early when :attr:`should_stop` is set (a divergence with
        ``stop_on_divergence=True``) and shows the summary when the loop ends.
        """
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total = total
        self.completed = 0
        self._start()
        for position, item in enumerate(iterable, start=1):
            self._position = position
            if self.should_stop:
                self.training_history.stop_because("diverged")
                break
            yield item
            with self._own_time():
                self.completed += 1
                self._update_views(self._clock())
        else:
            if self.should_stop:
                self.training_history.stop_because("diverged")
        self.finish()

    def __enter__(self) -> TrainingMonitor:
        self._start()
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        interrupted = kind is not None and issubclass(kind, KeyboardInterrupt)
        if interrupted:
            self.training_history.stop_because("interrupted")
        self.finish()
        return interrupted and not self.reraise_interrupt

    def finish(self) -> None:
        """Draw the final state, remove :meth:`watch` hooks and show the summary (once)."""
        if self._finished:
            return
        self._finished = True
        self.unwatch()
        if self.view == "none":
            return
        with self._own_time():
            self._show_final()

    def _show_final(self) -> None:
        if self.view == "widget":
            png = self._render()
            self._show(png, self._status_html(final=True))
            if self._handle is not None:
                self._handle.update(self)  # the notebook file keeps the final picture
        print(self.summary_text())

    # ------------------------------------------------------------------ histograms
    def watch(self, model, every: int | None = None) -> TrainingMonitor:
        """Sample histograms of ``model``'s weights and gradients every ``every`` backward
        passes (default ``watch_every``); they appear as two more panels.

        Uses ``Tensor.register_post_accumulate_grad_hook``, so it works with any loop.
        Only weight matrices and kernels (two or more dimensions) are sampled. The
        hooks are removed by :meth:`unwatch` or when training finishes.
        """
        import torch

        if every is not None:
            if every < 1:
                raise ValueError(f"every must be at least 1, got {every!r}")
            self.watch_every = every
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
        if not named:
            raise ValueError(
                "watch() found no trainable weight matrices in this model "
                "(parameters with two or more dimensions)"
            )
        for name, parameter in named:
            self._watched_steps[name] = 0

            def sample(parameter: torch.Tensor, name: str = name) -> None:
                self._watched_steps[name] += 1
                step = self._watched_steps[name]
                if (step - 1) % self.watch_every == 0:
                    self._sample_histogram(name, step, parameter)

            self._hooks.append(parameter.register_post_accumulate_grad_hook(sample))
        return self

    def unwatch(self) -> None:
        """Remove the hooks :meth:`watch` added (the sampled histograms stay)."""
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()

    def _sample_histogram(self, name: str, step: int, parameter) -> None:
        with self._own_time():
            self.training_history.add_histogram(name, step, parameter)
        self._dirty = True

    # ------------------------------------------------------------------ views
    def _start(self) -> None:
        if self._started_at is None:
            self._started_at = self._clock()
        if self.view == "widget" and self._auto_display and self._handle is None:
            from IPython.display import display

            self._handle = display(self, display_id=True)

    def _update_views(self, now: float) -> None:
        if self.view == "widget":
            due = self._last_render is None or (
                now - self._last_render >= self.min_interval and self._within_budget(now)
            )
            if due and self._dirty:
                png = self._render()
                self._show(png, self._status_html())
                self._last_status = self._clock()
            elif self._last_status is None or now - self._last_status >= self.min_interval:
                self._status.value = self._status_html()  # cheap: progress and ETA only
                self._last_status = now
        elif self.view == "text" and self._dirty:
            if self._last_text is None or now - self._last_text >= self.min_interval:
                print(self._status_text())
                self._last_text = now
                self._dirty = False

    def _within_budget(self, now: float) -> bool:
        elapsed = now - (self._started_at if self._started_at is not None else now)
        return self.seconds_inside + 2 * self._render_cost <= self.max_overhead * elapsed

    def _progress(self) -> tuple[str, str]:
        """("3/10", "elapsed 00:04 · ETA 00:09") for the status line."""
        now = self._clock()
        elapsed = now - (self._started_at if self._started_at is not None else now)
        if self.total:
            # Rows are logged at the end of an iteration, so the one under way counts as done.
            done = max(self.completed, self._position)
            count = f"{done}/{self.total}"
            timing = f"elapsed {_clock_text(elapsed)}"
            if 0 < done < self.total:
                timing += f" · ETA {_clock_text(elapsed / done * (self.total - done))}"
            return count, timing
        return f"{len(self.training_history)} rows", f"elapsed {_clock_text(elapsed)}"

    def _latest_text(self) -> str:
        latest = self.training_history.latest()
        return " · ".join(f"{n} {format_value(n, v)}" for n, v in latest.items())

    def _status_text(self) -> str:
        count, timing = self._progress()
        return f"[{count}] {self._latest_text()} ({timing})"

    def _status_html(self, final: bool = False) -> str:
        count, timing = self._progress()
        fraction = self.completed / self.total if self.total else 0.0
        parts = []
        if self.total:
            parts.append(
                f'<progress value="{fraction:.3f}" max="1" style="width:12em"></progress> '
                f"<b>{count}</b>"
            )
        else:
            parts.append(f"<b>{count}</b>")
        parts.append(html.escape(timing))
        parts.append(html.escape(self._latest_text()))
        lines = [" &nbsp; ".join(parts)]
        for flag in self.flags:
            lines.append(f'<span style="color:#c0392b">⚠ {html.escape(flag.reason)}</span>')
        if self.stopped_reason:
            lines.append(f'<span style="color:#d35400">■ {html.escape(self.stopped_reason)}</span>')
        if final:
            summary = self.summary_text().split("\n")
            lines.append("<br>".join(html.escape(line) for line in summary[1:3]))
        return '<div style="font-family:monospace;line-height:1.5">' + "<br>".join(lines) + "</div>"

    def _show(self, png: bytes, status: str) -> None:
        # Two widgets, two messages (hold_sync groups the traits of one widget only):
        # the text goes first, so the new picture never appears under the old numbers.
        self._status.value = status
        self._image.value = png

    def _build_widget(self) -> None:
        import ipywidgets

        self._status = ipywidgets.HTML(value=self._status_html())
        self._image = ipywidgets.Image(
            format="png", value=self._render(), layout=ipywidgets.Layout(max_width="100%")
        )
        self._widget = ipywidgets.VBox([self._status, self._image])
        self._widget.add_class("nn-training-monitor")  # a handle for browser tests and CSS
        self._last_render = None  # the first logged row is drawn at once

    def _repr_mimebundle_(self, **kwargs) -> dict:
        png = self._png or self._render()
        return widget_bundle(self._widget, png, TEXT_PLAIN, **kwargs)

    def png(self, full: bool = False) -> bytes:
        """The current figure as PNG bytes, drawn now (``full=True``: from scratch)."""
        return self._render(full)

    @property
    def widget(self):
        """The ipywidgets view (status line above the picture); None unless view="widget"."""
        return self._widget

    # ------------------------------------------------------------------ drawing
    def _render(self, full: bool = False) -> bytes:
        with self._own_time():
            started = self._clock()
            self._png = self.figure.render(
                self.training_history, title=self.title, x_span=self._x_span, full=full
            )
            finished = self._clock()
        self.render_count += 1
        self._dirty = False
        self._last_render = finished
        self._render_cost = finished - started
        return self._png


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def _in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (where a frontend may render widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
