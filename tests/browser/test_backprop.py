"""Lesson 3 in a real browser: the backprop stepper's Next button round-trips through the kernel."""

import pytest

pytestmark = pytest.mark.browser

CURRENT_NODE = ".backprop-stepper .backprop-graph g.node.current"
# Each widget (caption, picture) updates on its own message: wait until both show step n.
SHOWS_STEP = """n => {
    const stepper = document.querySelector('.backprop-stepper');
    const caption = stepper.querySelector('.backprop-caption');
    const graph = stepper.querySelector('.backprop-graph');
    return caption && graph && caption.textContent.startsWith(`Step ${n} of 13`)
        && graph.getAttribute('data-step') === String(n);
}"""
WAIT_MS = 30_000  # a click's round trip through a busy kernel on a shared machine


def test_next_moves_the_highlight_and_the_numbers_in_lesson_3(lab):
    lab.open("lessons/03-backpropagation.ipynb")
    lab.run_all()
    page = lab.page
    assert not lab.errors(), lab.errors()

    stepper = page.locator(".backprop-stepper").first
    stepper.wait_for()
    # JupyterLab skips rendering cells outside the viewport: bring the widget into view.
    stepper.scroll_into_view_if_needed()
    page.wait_for_function(SHOWS_STEP, arg=0, timeout=WAIT_MS)
    caption = stepper.locator(".backprop-caption")
    graph = stepper.locator(".backprop-graph")
    next_button = stepper.locator("button.backprop-next")
    assert caption.text_content().startswith("Step 0 of 13")
    assert stepper.locator("g.node.current").count() == 0
    assert "value -3.0000" not in graph.text_content()  # e = a × b is not computed yet

    highlighted, captions, pictures = [], [caption.text_content()], [graph.text_content()]
    for click in range(1, 4):
        next_button.click()
        page.wait_for_function(SHOWS_STEP, arg=click, timeout=WAIT_MS)
        current = page.locator(CURRENT_NODE)
        assert current.count() == 1
        highlighted.append(current.first.get_attribute("data-key"))
        captions.append(caption.text_content())
        pictures.append(graph.text_content())

    # The forward pass computes e, then d, then L: a different node lights up each time,
    # and the numbers on the graph and in the caption change with it.
    assert len(set(highlighted)) == 3
    assert len(set(captions)) == 4 and len(set(pictures)) == 4
    assert "e = a × b = 2.0000 × -1.5000 = -3.0000" in captions[1]
    assert "value -3.0000" in pictures[1]
    assert "value -5.0000" in pictures[3] and "value -5.0000" not in pictures[2]

    # Prev undoes the last step in the page as well.
    stepper.locator("button.backprop-prev").click()
    page.wait_for_function(SHOWS_STEP, arg=2, timeout=WAIT_MS)
    assert page.locator(CURRENT_NODE).first.get_attribute("data-key") == highlighted[1]
    assert graph.text_content() == pictures[2]
