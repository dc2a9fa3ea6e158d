"""Binder, proven as far as a machine without Docker allows.

* binder/postBuild runs as a non-root user in a fresh environment holding binder/
  environment.yml's packages (their pip equivalents), then JupyterLab starts from that
  environment: its settings took effect and the setup check's verdict is ✓.
* repo2docker, Binder's own build tool, renders the Dockerfile it would build, and the
  steps it will run are the ones we mean.
* binder/start gives each library one thread unless the host chose.

Installing PyTorch into a fresh environment would copy gigabytes, so the fresh
environment reuses the packages already installed for the tests (a .pth file names their
folder, as ``--system-site-packages`` would) and links JupyterLab's installed data files;
everything postBuild writes lands in the fresh environment and the repository copy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Binder images are Linux; bash runs postBuild"
)


def _dependency_helpers():
    """tests/test_dependencies.py is the one home of the conda-file parser."""
    spec = importlib.util.spec_from_file_location(
        "course_dependency_checks", Path(__file__).with_name("test_dependencies.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_student(command: list[str]) -> list[str]:
    """``command`` run as 'nobody', as Binder builds and serves as a plain user.

    As root, setpriv drops to uid/gid 65534 and keeps one capability, reading and
    entering folders (CAP_DAC_READ_SEARCH): the installed packages and this clone may sit
    under a folder private to root (CI clones wherever it likes), and reading them is not
    what this test is about. Writing stays a plain user's: anything postBuild or JupyterLab
    tried to write outside the user's own places would fail, which is what it checks.
    """
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is needed to run postBuild as a plain user")
    keep_reading = "+dac_read_search"
    return [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        f"--inh-caps={keep_reading}",
        f"--ambient-caps={keep_reading}",
        *command,
    ]


def _copy_repository(target: Path) -> None:
    """The files a clone of this worktree would have (tracked and new, not ignored)."""
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _fresh_environment(prefix: Path) -> None:
    """A new venv that sees the installed packages but none of this environment's config."""
    interpreter = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(interpreter), "-m", "venv", "--without-pip", str(prefix)], check=True)
    purelib = Path(
        sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)})
    )
    shared = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (purelib / "reuse-installed-packages.pth").write_text("\n".join(sorted(shared)) + "\n")
    # JupyterLab's data files, as pip would have put them in this prefix, except the
    # places postBuild writes to (the settings overrides, the course's extension and the
    # server config).
    here = Path(sys.prefix)
    for folder, keep_out in (
        ("share/jupyter", {"lab", "labextensions"}),
        ("share/jupyter/lab", {"settings"}),
        ("share/jupyter/labextensions", {"@nn-course"}),
        ("etc/jupyter", {"jupyter_server_config.json"}),
    ):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
        for entry in (here / folder).iterdir():
            if entry.name not in keep_out:
                (prefix / folder / entry.name).symlink_to(entry)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def binder_build():
    """A repository copy after binder/postBuild ran as a non-root user, and its environment."""
    # Not under pytest's tmp_path: its parent is private to root, and 'nobody' must enter.
    work = Path(tempfile.mkdtemp(prefix="binder-build-"))
    work.chmod(0o755)
    repo, prefix, home = work / "repo", work / "env", work / "home"
    _copy_repository(repo)
    _fresh_environment(prefix)
    home.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(work)], check=True)
    environment = {
        "PATH": f"{prefix / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "NB_PYTHON_PREFIX": str(prefix),  # repo2docker sets it; postBuild installs there
        # Offline: no package index, and the build backend (setuptools) taken from the
        # environment instead of downloaded (pip's inverted switch: 0 turns isolation off).
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    started = time.monotonic()
    build = subprocess.run(
        _as_student(["bash", "binder/postBuild"]),
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"postBuild failed:\n{build.stdout}\n{build.stderr}"
    yield {
        "repo": repo,
        "prefix": prefix,
        "env": environment,
        "log": build.stdout + build.stderr,
        "seconds": time.monotonic() - started,
    }
    shutil.rmtree(work, ignore_errors=True)


def test_fresh_environment_holds_binder_environment_yml_packages(binder_build):
    wanted = _dependency_helpers().conda_requirements(ROOT / "binder" / "environment.yml")
    script = (
        "import json, sys\nfrom importlib.metadata import version\n"
        "print(json.dumps({n: version(n) for n in sys.argv[1:]}))"
    )
    found = json.loads(
        subprocess.run(
            [str(binder_build["prefix"] / "bin" / "python"), "-c", script, *wanted],
            env=binder_build["env"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for name, specifier in wanted.items():
        assert found[name] in specifier, f"{name} {found[name]} is not {specifier}"


def test_postbuild_installs_the_package_settings_and_data_as_a_plain_user(binder_build):
    repo, prefix = binder_build["repo"], binder_build["prefix"]
    located = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import widgets; print(widgets.__file__)"],
        env=binder_build["env"],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(located) == repo / "widgets" / "__init__.py"
    overrides = prefix / "share/jupyter/lab/settings/overrides.json"
    assert json.loads(overrides.read_text()) == json.loads(
        (ROOT / "binder" / "overrides.json").read_text()
    )
    raw = repo / "datasets" / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(
        ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
        + ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    )
    if os.geteuid() == 0:  # built as the notebook user, so students can write there
        assert raw.stat().st_uid == NOBODY
    # MNIST and CIFAR-10 are left to first use: no build waits for ~180 MB.
    assert not (repo / "datasets" / "MNIST").exists()
    assert not (repo / "datasets" / "cifar-10-batches-py").exists()


def test_jupyterlab_from_the_built_environment_has_the_course_settings(binder_build):
    repo, prefix = binder_build["repo"], binder_build["prefix"]
    token, port = secrets.token_hex(16), _free_port()
    log = open(prefix.parent / "jupyterlab.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        _as_student(
            ["bash", "binder/start", str(prefix / "bin" / "python"), "-m", "jupyterlab"]
            + ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}"]
            + ["--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
        ),
        cwd=repo,
        env=binder_build["env"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get_json(path):
        with urllib.request.urlopen(f"{base}{path}?token={token}", timeout=10) as response:
            return json.loads(response.read())

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get_json("/api/status")
                break
            except OSError:
                assert server.poll() is None, (prefix.parent / "jupyterlab.log").read_text()
                assert time.monotonic() < deadline, "JupyterLab did not start within 90 s"
                time.sleep(0.5)

        def effective(plugin, key):
            settings = get_json(f"/lab/api/settings/{plugin}")
            return settings["settings"].get(key, settings["schema"]["properties"][key]["default"])

        notification = "@jupyterlab/apputils-extension:notification"
        assert effective(notification, "fetchNews") == "false"
        assert effective(notification, "checkForUpdates") is False
        viewers = effective("@jupyterlab/docmanager-extension:plugin", "defaultViewers")
        assert viewers["python"] == "Jupytext Notebook"  # a lesson's .py opens as a notebook
        # postBuild's extension: both JupyterLab and RISE's slideshow page load it
        for page in ("/lab", "/rise/lessons/01-perceptron.ipynb"):
            with urllib.request.urlopen(f"{base}{page}?token={token}", timeout=10) as response:
                html = response.read().decode()
            assert '"name": "@nn-course/rise-widgets"' in html, page
        # postBuild's server config: the front page is the setup check
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", f"/?token={token}")
        location = connection.getresponse().getheader("Location", "")
        assert location.split("?")[0] == "/lab/tree/lessons/00-setup-check.ipynb", location
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:  # a busy machine: shutting kernels down can hang
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


def test_setup_check_verdict_is_ready_in_the_built_environment(binder_build):
    repo, prefix = binder_build["repo"], binder_build["prefix"]
    executed = repo / "setup-check-run.ipynb"
    script = (
        "import sys, nbformat, nbclient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nbclient.NotebookClient(nb, timeout=120, kernel_name='python3',\n"
        "    resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "nbformat.write(nb, sys.argv[3])\n"
    )
    notebook = repo / "lessons" / "00-setup-check.ipynb"
    run = subprocess.run(
        _as_student(
            ["bash", "binder/start", str(prefix / "bin" / "python"), "-c", script]
            + [str(notebook), str(notebook.parent), str(executed)]
        ),
        cwd=repo,
        env=binder_build["env"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    cells = json.loads(executed.read_text())["cells"]
    verdict = "".join(
        "".join(output.get("text", ""))
        for output in cells[-1]["outputs"]
        if output.get("name") == "stdout"
    )
    assert verdict.startswith("✓ Your setup is ready"), verdict


def test_binder_start_gives_each_library_one_thread_unless_the_host_chose():
    script = "import os; print(os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'],"
    script += " os.environ['OPENBLAS_NUM_THREADS'])"
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}

    def threads(**chosen):
        return subprocess.run(
            ["bash", str(ROOT / "binder" / "start"), sys.executable, "-c", script],
            env={**environment, **chosen},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()

    assert threads() == ["1", "1", "1"]
    assert threads(OMP_NUM_THREADS="4") == ["4", "1", "1"]


# --------------------------------------------------------------------------- repo2docker
@pytest.fixture(scope="module")
def dockerfile() -> tuple[str, str]:
    """repo2docker's rendering of this repository (no Docker needed with --no-build)."""
    tool = shutil.which("repo2docker", path=str(Path(sys.executable).parent))
    assert tool, "repo2docker is missing: `pip install -e '.[test]'` installs it"
    rendered = subprocess.run(
        [tool, "--no-build", "--no-run", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    return rendered.stdout, rendered.stderr


def test_repo2docker_builds_from_binder_environment_with_conda(dockerfile):
    text, log = dockerfile
    assert re.search(r"^FROM \S*buildpack-deps:", text, re.M)
    assert "Building conda environment for python=3.11" in log + text
    assert '--file "binder/environment.yml"' in text
    # Binder's base image is not known to carry Debian's dataset package: no apt step for it
    assert "dataset-fashion-mnist" not in text


def test_repo2docker_runs_postbuild_as_the_notebook_user_and_starts_through_start(dockerfile):
    text, _ = dockerfile
    lines = text.splitlines()
    post_build = lines.index("RUN ./binder/postBuild")
    last_user = [line for line in lines[:post_build] if line.startswith("USER ")][-1]
    assert last_user == "USER ${NB_USER}"
    # the copy of the repository comes before the build script that needs it
    assert any(
        line.startswith("COPY --chown") and "src/ ${REPO_DIR}/" in line
        for line in lines[:post_build]
    )
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in lines
