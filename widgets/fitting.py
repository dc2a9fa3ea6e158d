"""The epoch loop both ``fit`` functions share: one contract for NumPy and PyTorch.

``widgets.numpy_training.fit`` (lesson 4) and ``widgets.torch_training.fit`` (lesson 5)
each know how to run *one* epoch; :func:`run_epochs` runs them and gives both the same
extension points:

* ``monitor``: a :class:`~widgets.monitor.TrainingMonitor` logs every epoch's record,
  counts the epochs in its progress bar, stops early when it flags a divergence with
  ``stop_on_divergence=True``, and shows where an interrupt stopped the run.
* An interrupt (Ctrl-C, Jupyter's stop button) is a clean stop, with or without a
  monitor: the records of the finished epochs are returned and the model keeps its
  weights.
* ``on_epoch_end(record)``: called after every epoch with its record (a plain dict);
  returning ``True`` stops training after that epoch (early stopping).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Not logged to a monitor: durations differ from run to run, and the monitor keeps time.
UNLOGGED_KEYS = ("seconds",)


def run_epochs(
    run_epoch: Callable[[int], dict],
    epochs: int,
    *,
    monitor=None,
    on_epoch_end: Callable[[dict], bool | None] | None = None,
) -> list[dict]:
    """Call ``run_epoch(epoch)`` for epoch = 1, 2, ... ``epochs``; return the records."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    history: list[dict] = []

    def one_epoch(epoch: int) -> bool:
        record = run_epoch(epoch)
        history.append(record)
        if monitor is not None:
            monitor.log(**{k: v for k, v in record.items() if k not in UNLOGGED_KEYS})
        return on_epoch_end is not None and on_epoch_end(record) is True

    if monitor is None:
        try:
            for epoch in range(1, epochs + 1):
                if one_epoch(epoch):
                    break
        except KeyboardInterrupt:
            print(
                f"Training interrupted in epoch {len(history) + 1} of {epochs}: returning the "
                f"{len(history)} finished epoch(s); the model keeps its current weights."
            )
        return history
    with monitor:  # catches an interrupt, shows "stopped at epoch k" and the summary
        for epoch in monitor.range(1, epochs + 1):
            if one_epoch(epoch):
                break
    return history
