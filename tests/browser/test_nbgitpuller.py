"""A class on JupyterHub gets the course through nbgitpuller links: follow one for real.

The link comes from tools/share_links.py, the repository is a local bare clone of this
one (a file:// URL, so nothing leaves the machine), and the server is JupyterLab with
nbgitpuller's server extension, as on each student's single-user server of a hub.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
LESSON = "lessons/01-perceptron.ipynb"

_spec = importlib.util.spec_from_file_location("share_links", ROOT / "tools" / "share_links.py")
share_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(share_links)


@pytest.fixture
def course_remote(tmp_path) -> Path:
    """A bare repository holding this checkout's HEAD as branch main, like a course's remote."""
    bare = tmp_path / "nn-course.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    subprocess.run(
        ["git", "-C", str(ROOT), "push", "--quiet", str(bare), "HEAD:refs/heads/main"], check=True
    )
    return bare


def test_nbgitpuller_link_puts_the_lesson_in_the_users_folder_and_opens_it(
    serve_lab, chromium_browser, course_remote, tmp_path
):
    home = tmp_path / "student-home"
    home.mkdir()
    server = serve_lab(home)
    link = share_links.nbgitpuller_url(
        server.url, course_remote.as_uri(), LESSON, branch="main", through_hub=False
    )
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{link}&token={server.token}")
        # nbgitpuller's page clones, then sends the browser on to the lesson
        page.wait_for_url(f"**/lab/tree/nn-course/{LESSON}*", timeout=120_000)
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
        heading = page.locator(".jp-NotebookPanel .jp-MarkdownOutput h1").first
        assert "perceptron" in heading.inner_text(timeout=30_000).lower()
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        print("failure screenshot:", tmp_path / "failure.png", "at", page.url)
        raise
    finally:
        context.close()
    pulled = home / "nn-course" / LESSON
    committed = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"HEAD:{LESSON}"], capture_output=True, check=True
    ).stdout
    assert pulled.read_bytes() == committed
    # a git clone the student owns, so the next link merges updates into it
    log = subprocess.run(
        ["git", "-C", str(home / "nn-course"), "log", "-1", "--format=%H"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert log == head
