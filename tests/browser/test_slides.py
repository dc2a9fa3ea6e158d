"""Lesson 1 presents as slides with RISE for JupyterLab, and its cells run in slide mode,
the perceptron playground included, with live controls that talk to the kernel.

RISE's slideshow is its own page (``/rise/<path>``), which JupyterLab shows in a panel
("Render as Reveal Slideshow"). That page is a small JupyterLab app of its own (4.3) that
lacks @jupyterlab/console, which the ipywidgets widget manager needs; the course's
extension (labextension/) provides it. Without it a widget cell in the slideshow shows
only the picture of itself it carries for static pages (jupyterlab-contrib/rise#126), and
this test fails at the sliders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

LESSON = "lessons/01-perceptron.ipynb"
ROOT = Path(__file__).resolve().parents[2]


def _cells():
    return json.loads((ROOT / LESSON).read_text())["cells"]


def _index(predicate) -> int:
    return next(i for i, cell in enumerate(_cells()) if predicate("".join(cell["source"])))


def test_rise_is_loaded_in_jupyterlab_and_renders_the_lesson_as_slides(lab):
    lab.open(LESSON)
    page = lab.page
    assert page.evaluate("window.jupyterapp.commands.hasCommand('RISE:preview')")
    page.evaluate("window.jupyterapp.commands.execute('RISE:preview')")
    frame_element = page.locator("iframe[src*='/rise/lessons/01-perceptron.ipynb']")
    frame_element.wait_for(state="attached", timeout=120_000)
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_selector(".reveal .slides > section", state="attached", timeout=120_000)
    slide_cells = [c for c in _cells() if c["metadata"]["slideshow"]["slide_type"] == "slide"]
    top_level = frame.locator(".reveal .slides > section")
    assert top_level.count() == len(slide_cells) >= 8
    first_slide = top_level.first.inner_text()
    assert "The perceptron" in first_slide


def test_cells_run_in_slide_mode_widget_cell_included(lab):
    server, page = lab.server, lab.page
    # The lesson without its stored outputs, so every prompt and output below is from
    # this run in the slideshow, not from the notebook's last build.
    notebook = json.loads((ROOT / LESSON).read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    unrun = "lessons/01-perceptron-unrun.ipynb"
    (server.root / unrun).write_text(json.dumps(notebook))
    imports = _index(lambda source: source.startswith("import matplotlib"))
    page.goto(f"{server.url}/rise/{unrun}?activeCellIndex={imports}&token={server.token}")
    page.locator(".reveal .slides section.present").first.wait_for(timeout=120_000)

    def kernel_idle() -> bool:
        kernels = server._api("kernels")
        return bool(kernels) and kernels[0]["execution_state"] == "idle"

    _wait(page, kernel_idle, "the slideshow's kernel to start")
    page.wait_for_timeout(2000)
    page.locator(".reveal section.present .jp-CodeCell .jp-InputPrompt").first.click()
    page.keyboard.press("Shift+Enter")  # the imports; RISE then selects the next code cell,
    active = page.locator(".reveal .jp-Cell.jp-mod-active")
    _wait(page, lambda: "PerceptronPlayground" in active.inner_text(), "RISE to move on")
    page.keyboard.press("Shift+Enter")  # the playground, on the slide "1. Play first"
    present = page.locator(".reveal section.present")
    widget_cell = present.locator(".jp-CodeCell").filter(has_text="PerceptronPlayground")
    _wait(
        page,
        lambda: kernel_idle() and widget_cell.locator(".jp-InputPrompt").inner_text() == "[2]:",
        "the imports and the playground to run",
    )
    assert "Play first" in present.first.inner_text()
    errors = present.locator("[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, errors.all_inner_texts()
    # This run's output (the copy had none): the playground's live controls, not the
    # picture a page without a kernel gets.
    playground = widget_cell.locator(".perceptron-playground")
    playground.wait_for(timeout=30_000)
    sliders = playground.locator(".widget-slider")
    assert sliders.count() >= 3  # w1, w2, b
    # Live: dragging w1's handle reaches the kernel, and the status and the picture come
    # back changed. (With the mouse: in a slideshow the arrow keys turn slides.)
    status = playground.locator(".perceptron-status")
    picture = playground.locator("img").first
    _wait(page, lambda: "w = (0, 0), b = 0" in status.inner_text(), "the playground's status")
    before = picture.get_attribute("src")
    handle = sliders.first.locator(".noUi-handle").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=5)
    page.mouse.up()
    _wait(page, lambda: "w = (0, 0)" not in status.inner_text(), "the kernel to answer w1")
    assert "Play first" in present.first.inner_text()  # still on the playground's slide
    _wait(page, lambda: picture.get_attribute("src") != before, "a new decision boundary")


def _wait(page, condition, what: str, timeout_s: float = 240) -> None:
    for _ in range(int(timeout_s * 2)):
        if condition():
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"timed out waiting for {what}")
