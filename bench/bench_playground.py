"""How long one Play tick of the network playground takes, and how fast its network trains.

    .venv/bin/python bench/bench_playground.py

A tick is exactly what the front end's Play timer triggers: the handler trains a chunk
of epochs (sized to about 12 ms) and redraws the whole picture (output region, a tile
per unit, edges, loss curves) and encodes it as PNG; only the websocket trip is left
out. The network is 2 hidden layers of 8 tanh units on 500 points (circle, half of them
for training, batch size 10). Targets: a median tick of at most 40 ms (20 frames/s).
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from widgets.notebook import limit_threads
from widgets.playground import NetworkPlayground

WARMUP_TICKS = 5
TIMED_TICKS = 60
TIMED_EPOCHS = 200


def main() -> None:
    limit_threads(1)  # as the lessons run: one thread is fastest for a network this small
    playground = NetworkPlayground(dataset="circle", n_points=500, hidden=(8, 8))
    durations, cpu_durations, epochs_per_tick = [], [], []
    for tick in range(1, WARMUP_TICKS + TIMED_TICKS + 1):
        playground._last_tick_end = 0.0  # ticks arrive one Play interval apart
        epochs_before = playground.model.epoch
        started, started_cpu = time.perf_counter(), time.process_time()
        playground.play.value = tick  # runs the tick handler, as a browser tick does
        if tick > WARMUP_TICKS:
            durations.append((time.perf_counter() - started) * 1000)
            cpu_durations.append((time.process_time() - started_cpu) * 1000)
            epochs_per_tick.append(playground.model.epoch - epochs_before)

    redraw_ms = []
    for _ in range(TIMED_TICKS // 2):
        started = time.perf_counter()
        playground.refresh()  # the redraw alone: picture, PNG, status
        redraw_ms.append((time.perf_counter() - started) * 1000)

    model = playground.model
    model.reset()
    started = time.perf_counter()
    model.run(epochs=TIMED_EPOCHS)
    epochs_per_second = TIMED_EPOCHS / (time.perf_counter() - started)

    print(
        f"(p90 {statistics.quantiles(durations, n=10)[-1]:.1f} ms over {TIMED_TICKS} ticks; "
        f"median {statistics.median(epochs_per_tick):.0f} epochs per tick; redraw alone "
        f"{statistics.median(redraw_ms):.1f} ms; tick CPU time median "
        f"{statistics.median(cpu_durations):.1f} ms, less sensitive to other processes)"
    )
    print(f"network playground tick ms: {statistics.median(durations):.1f}")
    print(f"network playground epochs/s: {epochs_per_second:.0f}")


if __name__ == "__main__":
    main()
