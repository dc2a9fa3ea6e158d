"""Lesson 1 presents as slides with RISE for JupyterLab, and its cells run in slide mode.

RISE's slideshow is its own page (``/rise/<path>``), which JupyterLab shows in a panel
("Render as Reveal Slideshow"). Known upstream limit, checked rather than hidden:
jupyterlab-rise 0.43.1's slideshow page bundles JupyterLab 4.3 while jupyterlab_widgets
3.0.17's widget manager is built for 4.6, so a widget created *in the slideshow* shows the
picture of itself it carries for static pages (``widgets/display.py``), not its controls
(the comm opens fail in the page; jupyterlab-contrib/rise#126). The test asserts the cell
ran and drew that picture, and reports an expected failure for the controls until RISE
draws them; then it passes and checks the sliders.
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
    # This run's output (the copy had none): at least the widget's own picture of itself.
    picture = widget_cell.locator("[data-mime-type='image/png'] img, .widget-slider")
    picture.first.wait_for(timeout=30_000)
    sliders = widget_cell.locator(".widget-slider")
    if sliders.count() == 0:
        pytest.xfail("jupyterlab-rise 0.43.1 draws ipywidgets 8 widgets as their picture only")
    assert sliders.count() >= 3  # w1, w2, b


def _wait(page, condition, what: str, timeout_s: float = 240) -> None:
    for _ in range(int(timeout_s * 2)):
        if condition():
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"timed out waiting for {what}")
