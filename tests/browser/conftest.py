"""Browser-test fixtures: a real JupyterLab server driven by Chromium via Playwright.

Chromium is Debian's (/usr/bin/chromium) when installed, else Playwright's own, which
`python tools/course.py test` installs on systems without Debian's (macOS, Windows).

The server runs on 127.0.0.1 over a *copy* of lessons/ (running cells there can never
touch the committed notebooks), with a fresh workspace, news and update checks off,
and autosave off. Tests use the ``lab`` fixture:

    lab.open("lessons/01-perceptron.ipynb")   # opens it, waits for the kernel
    lab.run_all()                             # runs every cell, waits until all are done
    lab.page                                  # the Playwright page, for locators and keys
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# None: Playwright's own Chromium (never installed where Debian's package is available).
CHROMIUM = (
    Path(os.environ["NN_COURSE_CHROMIUM"])
    if os.environ.get("NN_COURSE_CHROMIUM")
    else (DEBIAN_CHROMIUM if DEBIAN_CHROMIUM.exists() else None)
)
SERVER_START_TIMEOUT_S = 90
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # of failing tests; git ignores it
# Chromium's background services try to reach the internet, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """JupyterLab over a copy of lessons/, or over ``root`` when given (served as it is)."""

    def __init__(self, workdir: Path, root: Path | None = None):
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = root or workdir / "root"
        if root is None:
            shutil.copytree(
                ROOT / "lessons",
                self.root / "lessons",
                ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
            )
        settings = workdir / "user-settings"
        # Per-plugin user settings: news/update toasts off (they cover the page) and no
        # autosave (the copy is throwaway, but a save dialog would steal focus).
        overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
        overrides.setdefault("@jupyterlab/docmanager-extension:plugin", {})["autosave"] = False
        for plugin, values in overrides.items():
            package, name = plugin.split(":")
            target = settings / package / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
            f"--LabApp.user_settings_dir={settings}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        env["JUPYTER_RUNTIME_DIR"] = str(workdir / "runtime")
        self.log = open(workdir / "jupyterlab.log", "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self._wait_until_up(workdir / "jupyterlab.log")

    def _wait_until_up(self, log: Path) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
            try:
                self._api("status")
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(
            f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n"
            f"{log.read_text()[-3000:]}"
        )

    def _api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for kernel in self._api("kernels"):
            self._api(f"kernels/{kernel['id']}", method="DELETE")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


class Lab:
    """One browser page on the JupyterLab server, with the few actions tests need."""

    def __init__(self, server: LabServer, page):
        self.server = server
        self.page = page

    def open(self, path: str, timeout_s: float = 90) -> None:
        # A workspace of its own per page: otherwise JupyterLab restores the notebooks
        # earlier tests opened as background tabs, and locators find those first.
        workspace = f"test-{secrets.token_hex(4)}"
        self.page.goto(
            f"{self.server.url}/lab/workspaces/{workspace}/tree/{path}?token={self.server.token}"
        )
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=timeout_s * 1000)
        self.page.wait_for_function(
            """() => {
                const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                const kernel = panel && panel.sessionContext && panel.sessionContext.session
                    && panel.sessionContext.session.kernel;
                return kernel && kernel.status === 'idle';
            }""",
            timeout=timeout_s * 1000,
        )

    def run_all(self, timeout_s: float = 240) -> None:
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.wait_idle(timeout_s)

    def wait_idle(self, timeout_s: float = 240) -> None:
        """Wait until the kernel is idle and no cell shows the busy prompt ``[*]``."""
        self.page.wait_for_function(
            """() => {
                const panel = window.jupyterapp.shell.currentWidget;
                const kernel = panel.sessionContext.session.kernel;
                const prompts = [...document.querySelectorAll('.jp-InputPrompt')];
                return kernel.status === 'idle'
                    && !prompts.some(p => p.textContent.includes('[*]'));
            }""",
            timeout=timeout_s * 1000,
            polling=250,
        )

    def errors(self) -> list[str]:
        """Text of every error output in the notebook (an empty list when all cells ran)."""
        return self.page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).all_inner_texts()


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    yield server
    server.stop()


@pytest.fixture
def serve_lab(tmp_path):
    """Start a JupyterLab server over a folder of the test's choosing: ``serve_lab(root)``."""
    servers = []

    def start(root: Path) -> LabServer:
        servers.append(LabServer(tmp_path / f"jupyterlab-{len(servers)}", root=root))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def chromium_browser():
    from playwright.sync_api import Error, sync_playwright

    if CHROMIUM is not None and not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} (from $NN_COURSE_CHROMIUM) does not exist")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM) if CHROMIUM else None,
                headless=True,
                args=CHROMIUM_ARGS,
            )
        except Error as error:
            pytest.fail(
                "No Chromium for the browser tests. On Debian/Ubuntu: `apt-get install "
                "chromium` (`make test` does it when run as root); elsewhere `python "
                f"tools/course.py test` installs Playwright's own. ({str(error)[:300]})"
            )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see whether it failed.

    (A failing test does not raise into a yield fixture: only this hook sees the result.)
    """
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def lab(request, lab_server, chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield Lab(lab_server, page)
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(exist_ok=True)
            path = SCREENSHOTS / f"{request.node.name}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failing page: {path}")
    finally:
        context.close()
        lab_server.shutdown_kernels()  # the next test starts on a quiet machine
