"""A training run's numbers as plain data: the model behind ``TrainingMonitor``.

:class:`TrainingHistory` records one row per ``log(...)`` call, groups the series into
panels (``loss`` with ``val_loss``, ``acc`` with ``val_acc``, ...), flags divergence
(NaN, inf, a training loss far above its best) and summarises the run. It imports
neither ipywidgets nor matplotlib, so it can be tested, pickled and reused anywhere;
:mod:`widgets.monitor` draws it live and :mod:`widgets.monitor_figure` holds the figure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

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
HISTOGRAM_SAMPLE = 8192  # values per parameter in a histogram, at most about this many
HISTOGRAM_BINS = 30


def split_name(name: str) -> tuple[str, str]:
    """``"val_loss" -> ("loss", "val")``, ``"loss" -> ("loss", "train")``.

    The first part names the panel, the second the series' role within it.
    """
    for prefix, role in ROLE_PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :], role
    return name, "train"


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


def format_value(name: str, value: float) -> str:
    """A logged number as the status line and the summary write it (accuracy in %)."""
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
    """A divergence the history noticed: which series, where, and why, in words."""

    name: str
    x: float
    value: float
    reason: str


class TrainingHistory:
    """Rows of logged numbers, their series and panels, divergence flags and a summary.

    ``divergence_factor``: a training loss above this many times its best value so far
    is flagged (NaN and inf always are), once per series and kind.
    """

    def __init__(self, divergence_factor: float = 5.0):
        if not divergence_factor > 1:
            raise ValueError(f"divergence_factor must be above 1, got {divergence_factor!r}")
        self.divergence_factor = divergence_factor
        self.x_unit = "epoch"  # fixed by the first row: "epoch", "step" or "row"
        self.flags: list[Flag] = []
        self.histograms: list[dict] = []
        self.stopped_reason: str | None = None  # e.g. "stopped at epoch 3 (interrupted)"
        self._records: list[dict] = []
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._best: dict[str, float] = {}
        self._flagged: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ recording
    def log(self, epoch: float | None = None, step: float | None = None, **metrics) -> list[Flag]:
        """Record one row, e.g. ``log(epoch=3, loss=0.41, val_loss=0.47, lr=1e-3)``.

        The x position is ``epoch`` if given, else ``step``, else the number of the row.
        ``None`` values are skipped. Returns the flags this row raised (usually none).
        """
        metrics = {name: value for name, value in metrics.items() if value is not None}
        if not metrics:
            raise ValueError(
                "monitor.log() got no metrics; pass them by name, e.g. "
                "monitor.log(epoch=1, loss=0.52)"
            )
        if not self._records:
            self.x_unit = "epoch" if epoch is not None else "step" if step is not None else "row"
        record: dict = {}
        for key, value in (("epoch", epoch), ("step", step)):
            if value is not None:
                number = _as_number(key, value)
                record[key] = int(number) if number.is_integer() else number
        x = record.get("epoch", record.get("step", float(len(self._records) + 1)))
        new_flags = []
        for name, value in metrics.items():
            record[name] = number = _as_number(name, value)
            xs, ys = self._series.setdefault(name, ([], []))
            xs.append(x)
            ys.append(number)
            flag = self._check_divergence(name, x, number)
            if flag is not None:
                new_flags.append(flag)
        self._records.append(record)
        self.flags += new_flags
        return new_flags

    def _check_divergence(self, name: str, x: float, value: float) -> Flag | None:
        base, role = split_name(name)
        if not math.isfinite(value):
            if (name, "not finite") in self._flagged:
                return None
            self._flagged.add((name, "not finite"))
            return Flag(name, x, value, f"{name} is {value} at {self.x_label(x)}")
        # Only the training loss: a validation loss that rises is overfitting, a different
        # diagnosis, and would be flagged by this rule although training is healthy.
        if "loss" not in base or role != "train":
            return None
        best = self._best.get(name)
        self._best[name] = value if best is None else min(best, value)
        far_above = best is not None and best > 0 and value > self.divergence_factor * best
        if not far_above or (name, "far above best") in self._flagged:
            return None
        self._flagged.add((name, "far above best"))
        return Flag(
            name,
            x,
            value,
            f"{name} {value:.3g} at {self.x_label(x)} is "
            f"{value / best:.0f}× its best so far ({best:.3g})",
        )

    def stop_because(self, why: str) -> None:
        """Record why training ended early ("interrupted", "diverged"); the first reason wins."""
        if self.stopped_reason is None:
            where = self.x_label(self.x_of(self._records[-1])) if self._records else "the start"
            self.stopped_reason = f"stopped at {where} ({why})"

    def add_histogram(self, name: str, step: int, parameter) -> dict:
        """Sample histograms of a PyTorch parameter's values and of its gradient's log10."""
        import torch

        with torch.no_grad():
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
                counts = torch.histc(values, bins=HISTOGRAM_BINS, min=low, max=high)
                # Fractions, not counts: layers of very different sizes share one panel.
                entry[f"{kind}_fractions"] = (counts / counts.sum()).cpu().numpy()
                entry[f"{kind}_edges"] = np.linspace(low, high, HISTOGRAM_BINS + 1)
        self.histograms.append(entry)
        return entry

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._records)

    def x_of(self, record: dict) -> float:
        """Where a row sits on the x axis: its epoch, else its step, else its number."""
        return record.get("epoch", record.get("step", self._records.index(record) + 1))

    def x_label(self, x: float) -> str:
        return f"{self.x_unit} {x:g}"

    @property
    def rows(self) -> list[dict]:
        """Every logged row, as a list of plain dicts (copies)."""
        return [dict(record) for record in self._records]

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """The ``(x values, y values)`` logged for ``name``."""
        if name not in self._series:
            known = ", ".join(self._series) or "none yet"
            raise KeyError(f"no series called {name!r}; logged so far: {known}")
        xs, ys = self._series[name]
        return list(xs), list(ys)

    def latest(self) -> dict[str, float]:
        """The last value of every series, in the order they were first logged."""
        return {name: ys[-1] for name, (_, ys) in self._series.items()}

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
        """Plain data: rows logged, best row (lowest validation loss, else loss), last row,
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
        if not self._records:
            return "No training rows were logged."
        final = self._records[-1]
        lines = [
            f"Training {self.stopped_reason}."
            if self.stopped_reason
            else f"Training finished at {self.x_label(self.x_of(final))}."
        ]
        summary = self.summary()
        best = summary["best"]
        if best is not None:
            key = summary["best_by"]
            where = self.x_label(self.x_of(best))
            lines.append(f"Best {key}: {format_value(key, best[key])} at {where}.")
        metrics = [(n, v) for n, v in final.items() if n not in X_KEYS]
        lines.append("Final: " + " · ".join(f"{n} {format_value(n, v)}" for n, v in metrics))
        lines += [f"⚠ {flag.reason}" for flag in self.flags]
        return "\n".join(lines)
