"""How much does the TrainingMonitor slow down lesson 5's training loop?

    .venv/bin/python bench/bench_monitor.py [--epochs 5] [--repeats 1]

Lesson 5's loop: ``fit`` on the 784-256-128-10 MLP, Adam, batches of 128, 50 000
Fashion-MNIST training images and 10 000 validation images, one CPU thread. It runs
without a monitor, with a default ``TrainingMonitor`` (its widget view, drawing PNGs
exactly as in a notebook, only not displayed), and with ``watch(model)`` as in the
lesson. The monitor times its own work (``seconds_inside``: logging, drawing, PNG
encoding, histogram sampling); that time divided by the training time is the overhead.
The wall-clock difference between the runs is printed too, but on a shared machine it
is dominated by noise from other processes.

Last line: ``monitor overhead: X %`` (default settings; the target is at most 3 %).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time

import torch
from torch import nn

from widgets.monitor import TrainingMonitor
from widgets.notebook import limit_threads, seed_everything
from widgets.torch_training import fit, make_loaders, make_mlp

SIZES = [784, 256, 128, 10]


def run(loaders, epochs: int, monitor: TrainingMonitor | None, watch: bool) -> float:
    """Wall-clock seconds of one lesson-5 training run."""
    seed_everything(0)
    model = make_mlp(SIZES)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    if watch:
        monitor.watch(model)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the monitor's closing summary
        fit(
            model,
            loaders.train,
            nn.CrossEntropyLoss(),
            optimizer,
            epochs=epochs,
            val_loader=loaders.validation,
            monitor=monitor,
        )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (lesson 5: 5)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each kind")
    args = parser.parse_args()

    limit_threads(1)  # the lesson's setting
    loaders = make_loaders("fashion-mnist", batch_size=128, validation_size=10_000)
    run(loaders, 1, None, watch=False)  # warm-up: first-touch memory, lazy imports

    plain, default, watched = [], [], []
    default_inside, watched_inside, renders = [], [], []
    for _ in range(args.repeats):  # interleaved, so slow phases of the machine hit all kinds
        plain.append(run(loaders, args.epochs, None, watch=False))
        monitor = TrainingMonitor(view="widget", display=False)
        default.append(run(loaders, args.epochs, monitor, watch=False))
        default_inside.append(monitor.seconds_inside)
        renders.append(monitor.render_count)
        monitor = TrainingMonitor(view="widget", display=False)
        watched.append(run(loaders, args.epochs, monitor, watch=True))
        watched_inside.append(monitor.seconds_inside)

    def share(inside, totals):  # monitor time over the training time without it
        return 100 * statistics.median(i / (t - i) for i, t in zip(inside, totals, strict=True))

    base = statistics.median(plain)
    print(f"lesson 5 loop, {args.epochs} epochs x {args.repeats} run(s), one thread")
    print(f"  without monitor:        {base:.2f} s")
    print(
        f"  default monitor:        {statistics.median(default):.2f} s, "
        f"{statistics.median(renders):.0f} redraws, "
        f"{statistics.median(default_inside):.3f} s inside the monitor"
    )
    print(
        f"  with watch(model):      {statistics.median(watched):.2f} s, "
        f"{statistics.median(watched_inside):.3f} s inside the monitor"
    )
    print(
        f"  wall-clock difference (noisy): default "
        f"{100 * (statistics.median(default) / base - 1):+.1f} %, "
        f"watch {100 * (statistics.median(watched) / base - 1):+.1f} %"
    )
    print(f"monitor overhead with watch(model): {share(watched_inside, watched):.1f} %")
    print(f"monitor overhead: {share(default_inside, default):.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
