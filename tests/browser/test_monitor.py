"""Lesson 5's TrainingMonitor in a real browser: its picture changes while the cell runs.

A busy kernel cannot receive messages from the browser, so a live view must be pushed
from the kernel. This test runs lesson 5 in JupyterLab and records, from inside the
page, every picture the first monitor (the training cell's) shows, together with
whether that cell was still running (its prompt shows ``[*]``) at that moment.
"""

import pytest

pytestmark = pytest.mark.browser

# Runs in the page: a MutationObserver notes each new picture of the first monitor the
# moment the DOM changes, so even an update just before the cell finishes is caught
# (polling could miss it). A picture's size is noted once it has loaded: the monitor's
# placeholder before the first epoch is 8 px wide, a real figure hundreds.
RECORD_PICTURES = """() => {
    window.monitorPictures = [];
    const seen = new Set();
    const note = () => {
        const image = document.querySelector('.nn-training-monitor img');
        if (!image || !image.src || seen.has(image.src)) return;
        seen.add(image.src);
        const cell = image.closest('.jp-Cell');
        const prompt = cell ? cell.querySelector('.jp-InputPrompt').textContent : '';
        const status = document.querySelector('.nn-training-monitor .widget-html-content');
        const picture = {
            running: prompt.includes('*'),
            status: status ? status.textContent : '',
            width: 0,
        };
        window.monitorPictures.push(picture);
        const probe = new Image();
        probe.onload = () => { picture.width = probe.naturalWidth; };
        probe.src = image.src;
    };
    new MutationObserver(note).observe(document.body, {
        subtree: true, childList: true, attributes: true, attributeFilter: ['src'],
    });
}"""


def test_the_training_monitor_redraws_while_its_cell_is_running(lab):
    lab.open("lessons/05-pytorch-basics.ipynb")
    page = lab.page
    page.evaluate(RECORD_PICTURES)
    lab.run_all(timeout_s=480)
    assert not lab.errors()

    pictures = page.evaluate("window.monitorPictures")
    figures_while_running = [p for p in pictures if p["running"] and p["width"] > 100]
    # At least the first epoch's curves and a later state, both before the cell ended.
    assert len(figures_while_running) >= 2, pictures
    assert "1/5" in figures_while_running[0]["status"], pictures
    assert figures_while_running[-1]["status"] != figures_while_running[0]["status"], pictures

    # The cell then ends with the summary text under the final picture.
    summary = page.get_by_text("Training finished at epoch 5.")
    summary.first.wait_for()
