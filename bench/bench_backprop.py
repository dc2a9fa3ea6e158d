"""How long one click of the BackpropStepper takes in the kernel (model step + SVG + table).

    .venv/bin/python bench/bench_backprop.py

Clicks every button of two steppers (the 2-2-1 network view of lesson 3, and the same
network's full graph of 57 nodes, the largest the course shows) and prints the median.
The target is 25 ms: above it, stepping feels sluggish.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from widgets.backprop import BackpropStepper, scalar_network  # noqa: E402

BUTTON_SEQUENCE = ["next"] * 6 + ["prev"] * 2 + ["run_backward", "update", "prev", "reset"]


def click_times_ms(stepper: BackpropStepper, rounds: int) -> list[float]:
    buttons = stepper._buttons  # the real buttons, so the timing includes the click dispatch
    times = []
    for _ in range(rounds):
        for name in BUTTON_SEQUENCE:
            started = time.perf_counter()
            buttons[name].click()
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    network = scalar_network(
        [1.0, 0.0], 1.0, [[[0.5, -0.4], [0.3, 0.8]], [[1.0, -1.2]]], [[0.1, -0.2], [0.05]]
    )
    times = []
    for view in ("network", "graph"):
        stepper = BackpropStepper(network, lr=0.5, view=view)
        _ = stepper.widget  # build the widgets once, as displaying the stepper does
        view_times = click_times_ms(stepper, rounds=20)
        print(
            f"  {view:7s} view: median {statistics.median(view_times):.2f} ms, "
            f"max {max(view_times):.2f} ms over {len(view_times)} clicks"
        )
        times += view_times
    print(f"backprop stepper handler median ms: {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
