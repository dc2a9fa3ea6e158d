"""The course website (`make site`) in a real browser, served from 127.0.0.1.

The site is built from the stored notebooks into a temporary folder and served by
Python's own HTTP server; nothing else is reachable (requests to other hosts are
refused and recorded). A lesson page must show every stored figure, and each widget its
static picture, where no kernel runs.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import struct
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
LESSON = "lessons/01-perceptron"
REPO = "https://github.com/ada/nn-course"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

_spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    work = tmp_path_factory.mktemp("site")
    site = build_site.build(work / "site", REPO, staging=work / "staging")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(chromium_browser, site_url):
    """A page that reaches only the local server; ``page.outside`` lists what it tried,
    ``page.missing`` what the site did not have (HTTP errors)."""
    context = chromium_browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.outside, page.missing = [], []
    page.on("response", lambda r: r.status >= 400 and page.missing.append(r.url))

    def route(request_route):
        url = request_route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            request_route.continue_()
        else:
            page.outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    yield page
    context.close()


def stored_pictures(notebook: Path) -> tuple[list[bytes], list[bytes]]:
    """(every stored PNG output, the widgets' PNGs) of a notebook, decoded."""
    every, of_widgets = [], []
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                png = base64.b64decode("".join(data["image/png"]))
                every.append(png)
                if WIDGET_VIEW in data:
                    of_widgets.append(png)
    return every, of_widgets


def png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])  # the IHDR chunk: width, height


def test_a_lesson_page_shows_its_figures_and_its_widgets_pictures(page, site_url):
    every, of_widgets = stored_pictures(ROOT / f"{LESSON}.ipynb")
    assert len(every) >= 5 and len(of_widgets) >= 2
    page.goto(f"{site_url}/{LESSON}.html")
    page.wait_for_load_state("load")
    assert page.locator("h1").first.inner_text().startswith("1 · The perceptron")

    shown = page.locator(".jp-OutputArea-output img").evaluate_all(
        """images => images.map(img => {
            const box = img.getBoundingClientRect();
            return {src: img.src, loaded: img.complete && img.naturalWidth > 0,
                    width: img.naturalWidth, height: img.naturalHeight, shownWidth: box.width};
        })"""
    )
    assert len(shown) == len(every), "one picture per stored figure"
    assert all(image["loaded"] and image["shownWidth"] > 100 for image in shown), shown
    by_source = {
        base64.b64decode(image["src"].split(",", 1)[1]): image
        for image in shown
        if image["src"].startswith("data:image/png;base64,")
    }
    for png in of_widgets:  # the static picture of each widget, at its own size
        image = by_source[png]
        assert (image["width"], image["height"]) == png_size(png)

    text = page.locator("article").inner_text()
    assert "Error displaying widget" not in text and "Loading widget" not in text
    assert page.locator(".jupyter-widgets, .widget-area").count() == 0
    binder = page.locator(f"a.{build_site.BINDER_CLASS}")
    assert binder.get_attribute("href") == build_site.share_links.binder_url(
        REPO, f"{LESSON}.ipynb"
    )
    # math typeset by the site's own MathJax: no TeX source left in the prose
    page.wait_for_function("document.querySelectorAll('.MathJax').length > 10")
    assert "\\hat" not in page.locator(".jp-RenderedMarkdown").first.inner_text()
    # everything comes from the site itself but, with a GitHub remote, the theme's star
    # count of the repository; and the site has every file its pages ask for
    assert {urlsplit(url).hostname for url in page.outside} <= {"api.github.com"}, page.outside
    assert page.missing == []


def test_the_course_map_leads_to_the_lesson_and_on_to_its_exercise(page, site_url):
    page.goto(f"{site_url}/index.html")
    course_map = page.locator("article table").last
    course_map.get_by_role("link", name="The perceptron").click()
    page.wait_for_url(f"**/{LESSON}.html")
    assert page.locator("h1").first.inner_text().startswith("1 · The perceptron")
    page.locator("article").get_by_role("link", name="exercise", exact=False).last.click()
    page.wait_for_url("**/lessons/exercises/01-perceptron.html")
    assert "Exercise 1" in page.locator("h1").first.inner_text()
