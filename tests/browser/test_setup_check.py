"""The setup-check notebook in a real browser: its widget round-trips through the kernel."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_setup_check_runs_and_its_slider_answers_from_the_kernel(lab):
    lab.open("lessons/00-setup-check.ipynb")
    lab.run_all()
    page = lab.page
    assert not lab.errors()
    verdict = page.get_by_text(re.compile("Your setup is ready for the course"))
    verdict.first.wait_for()

    answer = page.locator(".widget-label", has_text="the kernel says")
    answer.first.wait_for()
    assert answer.first.inner_text() == "the kernel says: x = 3, x² = 9"

    # The keyboard, as a student without a mouse would: focus the handle, press → twice.
    handle = page.locator(".widget-slider .noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-label')]"
        ".some(l => l.textContent === 'the kernel says: x = 5, x² = 25')",
        timeout=15_000,
    )
    assert page.locator(".widget-readout").first.inner_text().strip() == "5"


def test_a_lesson_source_file_opens_as_a_notebook(lab):
    # binder/overrides.json makes Jupytext's notebook view the default for .py files, so a
    # student (or instructor editing a lesson) double-clicking a .py gets cells, not text.
    lab.open("lessons/00-setup-check.py")
    page = lab.page
    assert page.locator(".jp-NotebookPanel .jp-MarkdownCell").count() >= 5
    assert page.locator(".jp-NotebookPanel .jp-CodeCell").count() >= 5
    assert page.locator(".jp-FileEditor:visible").count() == 0
