"""Lesson 1 in a real browser: the perceptron playground answers the keyboard and its buttons."""

import pytest

pytestmark = pytest.mark.browser

STATUS_CHANGED = """([selector, before]) => {
    const status = document.querySelector(selector);
    return status && status.innerText !== before;
}"""
IMAGE = ".perceptron-playground img"


def wait_for_new_picture(page, before_src: str) -> str:
    """Wait until the playground's <img> shows a new PNG, decoded and ready to paint."""
    page.wait_for_function(
        "([img, before]) => document.querySelector(img).getAttribute('src') !== before",
        arg=[IMAGE, before_src],
        timeout=15_000,
    )
    page.evaluate("(img) => document.querySelector(img).decode()", IMAGE)
    return page.locator(IMAGE).first.get_attribute("src")


def test_playground_slider_and_step_update_status_and_picture(lab):
    lab.open("lessons/01-perceptron.ipynb")
    lab.run_all()
    assert not lab.errors()
    page = lab.page

    playground = page.locator(".perceptron-playground").first
    playground.scroll_into_view_if_needed()
    status_selector = ".perceptron-playground .perceptron-status"
    status = page.locator(status_selector).first
    image = playground.locator("img").first
    image.wait_for()
    # The status is an HTML widget whose text arrives just after its box appears.
    page.wait_for_function(
        "([selector]) => (document.querySelector(selector)?.innerText || '').includes('AND')",
        arg=[status_selector],
        timeout=15_000,
    )

    start_text, start_src = status.inner_text(), image.get_attribute("src")
    assert "AND" in start_text and "w = (0, 0), b = 0" in start_text
    start_pixels = image.screenshot()

    # w1 with the keyboard, as a student without a mouse would: focus its handle, press →.
    handle = playground.locator(".widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([selector]) => document.querySelector(selector).innerText.includes('w = (0.3, 0)')",
        arg=[status_selector],
        timeout=15_000,
    )
    after_slider_text = status.inner_text()
    assert after_slider_text != start_text
    after_slider_src = wait_for_new_picture(page, start_src)
    after_slider_pixels = image.screenshot()
    assert after_slider_pixels != start_pixels

    # Step: sample 1 is (0, 0) with target 0; z = 0 gives ŷ = 1, so the bias drops by 1.
    playground.locator("button", has_text="Step").first.click()
    page.wait_for_function(STATUS_CHANGED, arg=[status_selector, after_slider_text], timeout=15_000)
    step_text = status.inner_text()
    assert "sample 1: x = (0, 0), y = 0" in step_text
    assert "ŷ = step(0) = 1" in step_text and "Δb = −1" in step_text
    assert "w = (0.3, 0), b = −1" in step_text
    wait_for_new_picture(page, after_slider_src)
    assert image.screenshot() != after_slider_pixels
    # The b slider followed the model (its readout writes a true minus sign).
    b_readout = playground.locator(".widget-readout").nth(2)
    assert b_readout.inner_text().strip() == "−1.00"
