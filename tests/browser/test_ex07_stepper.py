"""Exercise 7 in a real browser: the backprop stepper replays the student's own engine.

The solution notebook is the student's notebook with every task done: its stepper is
built on the notebook's ``Value`` class (not the course's), so its numbers come from the
notebook's ``_backward`` closures. The student version, where the engine is not written
yet, must run to the end and say "not done yet" instead of showing a stepper.
"""

import re

import pytest

pytestmark = pytest.mark.browser

TOTAL_STEPS = 61  # 32 nodes: a forward step per operation, a backward step per edge, 9 updates
SHOWS_STEP = """n => {
    const stepper = document.querySelector('.backprop-stepper');
    const caption = stepper && stepper.querySelector('.backprop-caption');
    const graph = stepper && stepper.querySelector('.backprop-graph');
    return caption && graph && caption.textContent.startsWith(`Step ${n} of 61`)
        && graph.getAttribute('data-step') === String(n);
}"""
WAIT_MS = 30_000  # a click's round trip through a busy kernel on a shared machine


def test_the_stepper_steps_through_the_notebooks_own_engine(lab):
    lab.open("lessons/exercises/solutions/07-build-your-own-autograd.ipynb")
    lab.run_all()
    page = lab.page
    assert not lab.errors(), lab.errors()
    page.get_by_text("✓ Your engine in the stepper").first.wait_for()

    stepper = page.locator(".backprop-stepper").first
    stepper.wait_for()
    stepper.scroll_into_view_if_needed()  # Lab skips rendering cells outside the viewport
    page.wait_for_function(SHOWS_STEP, arg=0, timeout=WAIT_MS)
    caption = stepper.locator(".backprop-caption")
    graph = stepper.locator(".backprop-graph")
    table = stepper.locator(".backprop-table")
    # The nodes carry the names the notebook's TwoLayerNet gave its parameters.
    for name in ("W1[0][0]", "b1[1]", "W2[0][1]", "x[0]"):
        assert name in graph.text_content()

    # Forward, one node per click: the products and sums of the student's engine, in the
    # numbers that TwoLayerNet(2, 2, seed=2) draws (pure Python: the same on every machine).
    expected = [
        "n₁ = W1[0][0] × x[0] = 1.6533 × 0.5892 = 0.9741",
        "n₂ = b1[0] + n₁ = 0.0000 + 0.9741 = 0.9741",
        "n₃ = W1[0][1] × x[1] = -0.4687 × -0.5264 = 0.2467",
    ]
    pictures = [graph.text_content()]
    for click, text in enumerate(expected, start=1):
        stepper.locator("button.backprop-next").click()
        page.wait_for_function(SHOWS_STEP, arg=click, timeout=WAIT_MS)
        assert text in caption.text_content()
        assert stepper.locator("g.node.current").count() == 1
        pictures.append(graph.text_content())
    assert len(set(pictures)) == 4
    assert "value 0.9741" in pictures[1] and "value 0.9741" not in pictures[0]

    # The whole backward pass: x[0] feeds both hidden units, so its gradient adds up, and
    # every gradient of the student's rules passes the numerical check column.
    stepper.locator("button.backprop-run-backward").click()
    page.wait_for_function(SHOWS_STEP, arg=52, timeout=WAIT_MS)
    assert "x[0] is used more than once, so gradients add up" in caption.text_content()
    checks = table.text_content()
    assert checks.count("✓") >= 20 and "✗" not in checks

    stepper.locator("button.backprop-update").click()
    page.wait_for_function(SHOWS_STEP, arg=TOTAL_STEPS, timeout=WAIT_MS)
    assert "W1[1][1] ← W1[1][1] − η·∂L/∂W1[1][1]" in caption.text_content()
    assert table.text_content().count("→") == 9  # W1 (2 × 2), b1, W2 (1 × 2), b2 moved


def test_the_student_version_runs_and_waits_for_the_engine(lab):
    lab.open("lessons/exercises/07-build-your-own-autograd.ipynb")
    lab.run_all()
    page = lab.page
    assert not lab.errors(), lab.errors()
    waiting = page.get_by_text(re.compile(r"○ Your engine in the stepper: not done yet"))
    waiting.first.wait_for()
    assert page.locator(".backprop-stepper").count() == 0
