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
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator, NullFormatter, PercentFormatter

# Prefixes that name the role of a series; what is left is the panel it belongs to.
ROLE_PREFIXES = {
    "train_": "train",
    "val_": "val",
    "valid_": "val",
    "validation_": "val",
    "test_": "test",
}
ACCURACY_NAMES = {"acc", "accuracy"}
LEARNING_RATE_NAMES = {"lr", "learning_rate"}
X_KEYS = ("epoch", "step")
PANELS_PER_ROW = 3
HISTOGRAM_SAMPLE = 8192  # values per parameter in a histogram, at most about this many
TEXT_PLAIN = "TrainingMonitor (training curves; a live picture in Jupyter)"


def split_name(name: str) -> tuple[str, str]:
    """``"val_loss" -> ("loss", "val")``, ``"loss" -> ("loss", "train")``.

    The first part names the panel, the second the series' role within it.
    """
    for prefix, role in ROLE_PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :], role
    return name, "train"


def _panel_title(base: str) -> str:
    if base in ACCURACY_NAMES:
        return "accuracy"
    if base in LEARNING_RATE_NAMES:
        return "learning rate"
    return base.replace("_", " ")


def _panel_order(base: str) -> tuple[int, str]:
    # losses first (what students watch), then accuracy, other metrics, learning rate last
    if "loss" in base:
        rank = 0
    elif base in ACCURACY_NAMES:
        rank = 1
    elif base in LEARNING_RATE_NAMES:
        rank = 3
    else:
        rank = 2
    return rank, base


def _as_number(name: str, value) -> float:
    """A float from a Python/NumPy number or a one-element tensor/array, else a clear error."""
    size = getattr(value, "numel", None)
    count = size() if callable(size) else getattr(value, "size", 1)
    if count != 1:
        raise TypeError(
            f"monitor.log({name}=...) needs one number, got {type(value).__name__} with "
            f"{count} values; log a summary such as {name}.mean().item()"
        )
    try:
        return float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        raise TypeError(
            f"monitor.log({name}=...) needs a number, got {value!r} ({type(value).__name__})"
        ) from None


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def _format_value(name: str, value: float) -> str:
    base, _ = split_name(name)
    if not math.isfinite(value):
        return str(value)
    if base in ACCURACY_NAMES:
        return f"{100 * value:.1f} %"
    if base in LEARNING_RATE_NAMES:
        return f"{value:.3g}"
    return f"{value:.4f}"


@dataclass(frozen=True)
class Flag:
    """A divergence the monitor noticed: which series, where, and why, in words."""

    name: str
    x: float
    value: float
    reason: str


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
    ):
        if view not in ("auto", "widget", "text", "none"):
            raise ValueError(f"view must be 'auto', 'widget', 'text' or 'none', not {view!r}")
        if min_interval < 0 or not 0 < max_overhead <= 1:
            raise ValueError(
                "min_interval must be >= 0 seconds and max_overhead a fraction in (0, 1]; "
                f"got {min_interval!r} and {max_overhead!r}"
            )
        if divergence_factor <= 1:
            raise ValueError(f"divergence_factor must be above 1, got {divergence_factor!r}")
        if watch_every < 1:
            raise ValueError(f"watch_every must be at least 1, got {watch_every!r}")
        if view == "auto":
            view = "widget" if _in_jupyter_kernel() else "text"
        self.view = view
        self.min_interval = min_interval
        self.max_overhead = max_overhead
        self.divergence_factor = divergence_factor
        self.stop_on_divergence = stop_on_divergence
        self.reraise_interrupt = reraise_interrupt
        self.watch_every = watch_every
        self.title = title
        self._clock = clock
        self._auto_display = display
        self._figure_width = figure_width

        self._records: list[dict] = []
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._best: dict[str, float] = {}
        self.flags: list[Flag] = []
        self._flagged: set[tuple[str, str]] = set()  # one flag per series and kind, not per row
        self.should_stop = False
        self.stopped_reason: str | None = None  # e.g. "stopped at epoch 3 (interrupted)"
        self.histograms: list[dict] = []
        self._hooks: list = []
        self._watched_steps: dict[str, int] = {}

        self._x_unit = "epoch"
        self._x_span: tuple[float, float] | None = None  # the x range range() will cover
        self.total: int | None = None
        self.completed = 0
        self._position = 0  # the iteration of track()/range() under way, counting from 1
        self._started_at: float | None = None
        self._finished = False

        # drawing state
        self.render_count = 0
        self.seconds_inside = 0.0  # time spent in the monitor's own code (for the benchmark)
        self._timing = False
        self._last_render: float | None = None
        self._render_cost = 0.0  # seconds the last redraw took: the next one's estimate
        self._last_status: float | None = None
        self._last_text: float | None = None
        self._dirty = False
        self._figure: Figure | None = None
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
            self._log(epoch, step, metrics)

    def _log(self, epoch, step, metrics: dict) -> None:
        metrics = {name: value for name, value in metrics.items() if value is not None}
        if not metrics:
            raise ValueError(
                "monitor.log() got no metrics; pass them by name, e.g. "
                "monitor.log(epoch=1, loss=0.52)"
            )
        self._start()
        if not self._records:  # the first row fixes the unit of the x axis
            self._x_unit = "epoch" if epoch is not None else "step" if step is not None else "row"
        record: dict = {}
        for key, value in (("epoch", epoch), ("step", step)):
            if value is not None:
                number = _as_number(key, value)
                record[key] = int(number) if number.is_integer() else number
        x = record.get("epoch", record.get("step", float(len(self._records) + 1)))
        for name, value in metrics.items():
            record[name] = number = _as_number(name, value)
            xs, ys = self._series.setdefault(name, ([], []))
            xs.append(x)
            ys.append(number)
            self._check_divergence(name, x, number)
        self._records.append(record)
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

    def _check_divergence(self, name: str, x: float, value: float) -> None:
        base, role = split_name(name)
        if not math.isfinite(value):
            if (name, "not finite") not in self._flagged:
                self._flagged.add((name, "not finite"))
                self._flag(Flag(name, x, value, f"{name} is {value} at {self._x_label(x)}"))
            return
        # Only the training loss: a validation loss that rises is overfitting, a different
        # diagnosis, and would be flagged by this rule although training is healthy.
        if "loss" not in base or role != "train":
            return
        best = self._best.get(name)
        if best is not None and best > 0 and value > self.divergence_factor * best:
            if (name, "far above best") not in self._flagged:
                self._flagged.add((name, "far above best"))
                self._flag(
                    Flag(
                        name,
                        x,
                        value,
                        f"{name} {value:.3g} at {self._x_label(x)} is "
                        f"{value / best:.0f}× its best so far ({best:.3g})",
                    )
                )
        self._best[name] = value if best is None else min(best, value)

    def _flag(self, flag: Flag) -> None:
        self.flags.append(flag)
        if self.stop_on_divergence:
            self.should_stop = True
        self._dirty = True
        self._last_render = None  # a flag is drawn at once, whatever the throttle says
        if self.view == "text":
            print(f"⚠ diverging: {flag.reason}")

    def _x_label(self, x: float) -> str:
        return f"{self._x_unit} {x:g}"

    # ------------------------------------------------------------------ plain data
    @property
    def history(self) -> list[dict]:
        """Every logged row, as a list of plain dicts (copies)."""
        return [dict(record) for record in self._records]

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """The ``(x values, y values)`` logged for ``name``."""
        if name not in self._series:
            known = ", ".join(self._series) or "none yet"
            raise KeyError(f"no series called {name!r}; logged so far: {known}")
        xs, ys = self._series[name]
        return list(xs), list(ys)

    def panels(self) -> dict[str, list[str]]:
        """Series grouped by panel, e.g. ``{"loss": ["loss", "val_loss"], "lr": ["lr"]}``.

        Within a panel the training series comes first, then validation, then test.
        """
        groups: dict[str, list[str]] = {}
        for name in self._series:
            groups.setdefault(split_name(name)[0], []).append(name)
        role_rank = {"train": 0, "val": 1, "test": 2}
        return {
            base: sorted(groups[base], key=lambda n: role_rank[split_name(n)[1]])
            for base in sorted(groups, key=_panel_order)
        }

    def summary(self) -> dict:
        """Plain data: epochs run, best row (lowest validation loss, else loss), last row,
        flags and why training stopped (None when it ran to the end)."""
        if not self._records:
            return {"rows": 0, "best": None, "final": None, "flags": [], "stopped": None}
        key = "val_loss" if "val_loss" in self._series else "loss"
        finite = [r for r in self._records if math.isfinite(r.get(key, math.nan))]
        best = min(finite, key=lambda r: r[key]) if finite else None
        return {
            "rows": len(self._records),
            "best_by": key if best else None,
            "best": dict(best) if best else None,
            "final": dict(self._records[-1]),
            "flags": [asdict(flag) for flag in self.flags],
            "stopped": self.stopped_reason,
        }

    def summary_text(self) -> str:
        """The summary in a few lines of text, without timings (so it reads the same on
        every run of a seeded notebook)."""
        summary = self.summary()
        if not summary["rows"]:
            return "No training rows were logged."
        final = summary["final"]
        x = final.get("epoch", final.get("step", summary["rows"]))
        where = self._x_label(x)
        lines = [
            f"Training {self.stopped_reason}."
            if self.stopped_reason
            else f"Training finished at {where}."
        ]
        best = summary["best"]
        if best is not None:
            best_x = best.get("epoch", best.get("step", self._records.index(best) + 1))
            key = summary["best_by"]
            lines.append(f"Best {key}: {_format_value(key, best[key])} at {self._x_label(best_x)}.")
        metrics = [(n, v) for n, v in final.items() if n not in X_KEYS]
        lines.append("Final: " + " · ".join(f"{n} {_format_value(n, v)}" for n, v in metrics))
        lines += [f"⚠ {flag.reason}" for flag in self.flags]
        return "\n".join(lines)

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
                self._stop_because("diverged")
                break
            yield item
            with self._own_time():
                self.completed += 1
                self._update_views(self._clock())
        else:
            if self.should_stop:
                self._stop_because("diverged")
        self.finish()

    def _stop_because(self, why: str) -> None:
        if self.stopped_reason is None:
            last = self._records[-1] if self._records else {}
            x = last.get("epoch", last.get("step", len(self._records)))
            where = self._x_label(x) if self._records else "the start"
            self.stopped_reason = f"stopped at {where} ({why})"

    def __enter__(self) -> TrainingMonitor:
        self._start()
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        interrupted = kind is not None and issubclass(kind, KeyboardInterrupt)
        if interrupted:
            self._stop_because("interrupted")
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
        import torch

        with self._own_time(), torch.no_grad():
            # A histogram of 30 bins needs no more than a few thousand values: an evenly
            # strided sample keeps sampling cheap for large layers.
            stride = max(1, parameter.numel() // HISTOGRAM_SAMPLE)
            weights = parameter.detach().flatten()[::stride].float()
            # Gradients span many orders of magnitude: their log10 shows vanishing or
            # exploding gradients as a shift left or right. Exact zeros (dead units) have
            # no logarithm; their share is kept separately.
            gradient = parameter.grad.detach().flatten()[::stride].float().abs()
            nonzero = gradient[gradient > 0]
            entry = {
                "step": step,
                "name": name,
                "grad_zero_fraction": 1.0 - len(nonzero) / max(1, len(gradient)),
            }
            for kind, values in (("weight", weights), ("grad_log10", nonzero.log10())):
                if len(values) == 0:
                    values = torch.zeros(1)
                low, high = float(values.min()), float(values.max())
                if high <= low:
                    high = low + 1e-6
                counts = torch.histc(values, bins=30, min=low, max=high)
                # Fractions, not counts: layers of very different sizes share one panel.
                entry[f"{kind}_fractions"] = (counts / counts.sum()).cpu().numpy()
                entry[f"{kind}_edges"] = np.linspace(low, high, 31)
        self.histograms.append(entry)
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
        return f"{len(self._records)} rows", f"elapsed {_clock_text(elapsed)}"

    def _latest_text(self) -> str:
        latest: dict[str, float] = {}
        for name, (_, ys) in self._series.items():
            latest[name] = ys[-1]
        return " · ".join(f"{n} {_format_value(n, v)}" for n, v in latest.items())

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

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {
            "text/plain": TEXT_PLAIN,
            "image/png": base64.b64encode(self._png or self._render()).decode("ascii"),
        }
        if self._widget is not None:
            bundle["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self._widget.model_id,
            }
        return bundle

    def png(self) -> bytes:
        """The current figure as PNG bytes (drawn now)."""
        return self._render()

    # ------------------------------------------------------------------ drawing
    # Most of a matplotlib redraw is text: tick labels, titles, legends. They change only
    # when an axis range changes, so the figure is drawn in two layers. The background
    # (axes, ticks, labels) is drawn once and kept as pixels; the data (lines, histogram
    # steps) are "animated" artists painted over a copy of it on every update. Axis
    # ranges are sticky: they grow with a margin when data leaves them, so the background
    # is redrawn only a few times per run.
    def _render(self) -> bytes:
        with self._own_time():
            return self._render_now()

    def _render_now(self) -> bytes:
        started = self._clock()
        if not self._records and not self.histograms:
            self._png = _blank_png()  # nothing to draw yet: no need to lay out empty axes
        else:
            self._draw_figure()
            canvas = self._figure.canvas
            if self._background is None:
                canvas.draw()  # everything but the animated artists
                self._background = canvas.copy_from_bbox(self._figure.bbox)
            else:
                canvas.restore_region(self._background)
                if self._stale_axes:  # redraw just those panels' cells, then keep the result
                    renderer = canvas.get_renderer()
                    for axes in self._stale_axes:
                        self._cell_patches[axes].draw(renderer)  # blank the panel's cell
                        axes.draw(renderer)
                    self._background = canvas.copy_from_bbox(self._figure.bbox)
            self._stale_axes.clear()
            for artist in self._animated:
                artist.axes.draw_artist(artist)
            self._png = _encode_png(canvas)
        finished = self._clock()
        self.render_count += 1
        self._dirty = False
        self._last_render = finished
        self._render_cost = finished - started
        return self._png

    def _panel_layout(self) -> tuple:
        panels = tuple((base, tuple(names)) for base, names in self.panels().items())
        if self.histograms:
            names = tuple(dict.fromkeys(entry["name"] for entry in self.histograms))
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
        if self._figure is None or layout != self._layout_key:
            self._build_figure(layout)
        for name, line in self._lines.items():
            line.set_data(*self._series[name])
        for base, names in layout:
            if base.startswith("#"):
                continue
            axes = self._axes[base]
            xs = [x for n in names for x in self._series[n][0]]
            ys = [y for n in names for y in self._series[n][1] if math.isfinite(y)]
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
            self._set_limits(axes, "y", _sticky(axes.get_ylim(), ys, log=log, bounds=bounds))
            self._draw_flags(base, names, axes)
        if self.histograms:
            self._draw_histograms()
        heading = self.title or ""
        if self.stopped_reason:
            heading = f"{heading} — {self.stopped_reason}" if heading else self.stopped_reason
        if self._figure.get_suptitle() != heading:
            color = "#d35400" if self.stopped_reason else "black"
            self._figure.suptitle(heading, fontsize=10, color=color)
            self._background = None

    def _x_limits(self, axes, xs: list[float]) -> tuple[float, float] | None:
        if not xs:
            return None
        low, high = min(xs), max(xs)
        span = self._x_span if self._x_unit == "epoch" else None
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
        latest = {entry["name"]: entry for entry in self.histograms}
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
            self._set_limits(axes, "x", _sticky(axes.get_xlim(), edges, margin=0.1))
            self._set_limits(axes, "y", _sticky(axes.get_ylim(), [0.0, *tops], bounds=(0, None)))
        self._step_label.set_text(f"backward pass {self.histograms[-1]['step']}")

    def _draw_flags(self, base: str, names: tuple, axes) -> None:
        flags = [flag for flag in self.flags if flag.name in names]
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
        figure = self._figure = Figure(dpi=72)
        FigureCanvasAgg(figure)
        figure.set_size_inches(self._figure_width, 2.6 * rows + 0.3)
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
            axes.xaxis.set_major_locator(MaxNLocator(5, integer=self._x_unit != "row"))
            axes.yaxis.set_major_locator(MaxNLocator(4))
            if base.startswith("#"):
                title = "weights" if base == "#weights" else "gradients (log10 |g|)"
                axes.set_title(title, fontsize=9, y=1.0)
                axes.xaxis.set_major_locator(MaxNLocator(5))
                kind = "weight" if base == "#weights" else "grad_log10"
                for name in names:
                    entry = next(e for e in self.histograms if e["name"] == name)
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
            axes.set_title(f"{_panel_title(base)} per {self._x_unit}", fontsize=9, y=1.0)
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


def _sticky(
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


def _encode_png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as PNG, without drawing again (``print_png`` would)."""
    from PIL import Image

    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    # RGB and fast zlib settings: the picture is replaced a moment later anyway.
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


_BLANK_PNG: bytes | None = None


def _blank_png() -> bytes:
    """A small white picture for a monitor with nothing to show yet."""
    global _BLANK_PNG
    if _BLANK_PNG is None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "white").save(buffer, format="png")
        _BLANK_PNG = buffer.getvalue()
    return _BLANK_PNG


def _in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (where a frontend may render widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
