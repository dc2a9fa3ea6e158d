"""How long the perceptron playground takes to answer a slider move, redraw included.

    .venv/bin/python bench/bench_perceptron.py

Sets the w1 slider from Python, which runs exactly the handler a browser drag runs
(model.set_weights, picture redrawn and PNG-encoded, status text rebuilt); only the
websocket trip is left out. The target is a median of at most 25 ms.
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from widgets.perceptron_widget import PerceptronPlayground

WARMUP_MOVES = 5
TIMED_MOVES = 100


def time_handler(playground: PerceptronPlayground, set_value, values) -> list[float]:
    """Wall-clock milliseconds per call; CPU milliseconds go to CPU_MS (contention-free)."""
    durations = []
    for value in values:
        started, started_cpu = time.perf_counter(), time.process_time()
        set_value(playground, value)
        durations.append((time.perf_counter() - started) * 1000)
        CPU_MS.append((time.process_time() - started_cpu) * 1000)
    return durations


CPU_MS: list[float] = []


def main() -> None:
    playground = PerceptronPlayground("blobs", weights=(0.5, 1.0), bias=0.2)
    # A sweep back and forth, like a drag: every value differs from the last one.
    sweep = [round(-2 + 0.1 * (i % 40), 1) for i in range(WARMUP_MOVES + TIMED_MOVES)]

    def move_w1(pg, value):
        pg.w1_slider.value = value

    slider_ms = time_handler(playground, move_w1, sweep)[WARMUP_MOVES:]
    slider_cpu_ms = CPU_MS[WARMUP_MOVES:]
    step_ms = time_handler(playground, lambda pg, _: pg.step_button.click(), range(TIMED_MOVES))
    print(
        f"(p90 {statistics.quantiles(slider_ms, n=10)[-1]:.1f} ms over {TIMED_MOVES} moves; "
        f"Step button median {statistics.median(step_ms):.1f} ms; slider CPU time median "
        f"{statistics.median(slider_cpu_ms):.1f} ms, less sensitive to other processes)"
    )
    print(f"perceptron slider handler median ms: {statistics.median(slider_ms):.1f}")


if __name__ == "__main__":
    main()
