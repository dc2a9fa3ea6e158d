"""Lesson 2's network playground in a real browser: Play trains, Pause stops, editing redraws."""

import re
import time

import pytest

pytestmark = pytest.mark.browser

PLAYGROUND = ".network-playground"
STATUS = f"{PLAYGROUND} .playground-status"
IMAGE = f"{PLAYGROUND} img"


def read_status(page) -> tuple[int, float]:
    """(epoch, test loss) as the first playground's status line shows them."""
    text = page.locator(STATUS).first.inner_text()
    epoch = re.search(r"epoch (\d+)", text)
    test_loss = re.search(r"test loss ([\d.]+)", text)
    assert epoch and test_loss, text
    return int(epoch.group(1)), float(test_loss.group(1))


def wait_for_status(page, predicate: str, timeout_ms: int = 30_000) -> None:
    page.wait_for_function(
        f"""([selector]) => {{
            const status = document.querySelector(selector);
            const text = status ? status.innerText : '';
            return {predicate};
        }}""",
        arg=[STATUS],
        timeout=timeout_ms,
    )


def test_play_trains_pause_stops_and_adding_a_layer_redraws(lab):
    lab.open("lessons/02-feedforward-networks.ipynb")
    lab.run_all()
    assert not lab.errors()
    page = lab.page

    playground = page.locator(PLAYGROUND).first
    playground.scroll_into_view_if_needed()
    wait_for_status(page, "text.includes('epoch 0')")
    start_epoch, start_loss = read_status(page)
    assert start_epoch == 0

    play_buttons = playground.locator(".widget-play button")
    play_buttons.nth(0).click()  # ▶
    time.sleep(2.0)
    play_buttons.nth(1).click()  # ⏸
    lab.wait_idle()
    # Ticks already on their way when Pause was pressed may still land: wait until still.
    paused_status = page.locator(STATUS).first.inner_text()
    for _ in range(20):
        time.sleep(0.25)
        now = page.locator(STATUS).first.inner_text()
        if now == paused_status:
            break
        paused_status = now
    paused_epoch, paused_loss = read_status(page)
    assert paused_epoch >= 5, paused_status
    assert paused_loss < start_loss, (start_loss, paused_status)
    time.sleep(1.0)
    assert read_status(page)[0] == paused_epoch  # paused means paused

    before_src = page.locator(IMAGE).first.get_attribute("src")
    before_pixels = playground.locator("img").first.screenshot()
    playground.locator("button", has_text="+ layer").first.click()
    page.wait_for_function(
        "([img, before]) => document.querySelector(img).getAttribute('src') !== before",
        arg=[IMAGE, before_src],
        timeout=15_000,
    )
    page.evaluate("(img) => document.querySelector(img).decode()", IMAGE)
    assert playground.locator("img").first.screenshot() != before_pixels
    assert playground.get_by_text("layer 3: 2").count() == 1  # the new layer's unit controls
    assert read_status(page)[0] == paused_epoch  # editing keeps the epoch count

    assert not lab.errors()
    assert page.get_by_text("Error displaying widget").count() == 0
    assert playground.locator(".widget-html", has_text="must").count() == 0  # no refusal shown
