"""Set up, run and test the course on Linux, macOS and Windows, with or without make.

    python tools/course.py lab     # first run: environment, packages, data; then JupyterLab
    python tools/course.py test    # the same setup, then ruff, unit tests, nbval, browser tests
    python tools/course.py setup | data | sync | notebooks | student | live | bench | lint | site
    python tools/course.py labextension   # maintainers: rebuild labextension/dist (Node.js)

On Windows write ``py tools\\course.py lab``. ``--torch cpu`` installs PyTorch's CPU-only
wheels (Linux's default PyTorch from PyPI is the CUDA build, several GB larger).

Where it installs: inside an activated conda environment or virtualenv, that environment;
otherwise the repository's own ``.venv`` (created with the Python that runs this script).
A stamp file in the environment, named after a hash of the dependency files, makes
reruns skip every install that is up to date. The Makefile is a thin wrapper over this
script, so ``make X`` and ``python tools/course.py X`` do the same thing.

Only the standard library is used here: this script runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
# A change to any of these reinstalls; the stamp's name is their hash.
DEPENDENCY_FILES = (
    "pyproject.toml",
    "tools/apt.txt",
    "tools/apt-test.txt",
    "labextension/dist/package.json",  # names the build's hashed entry point
)
SETUP_CHECK_URL = "/lab/tree/lessons/00-setup-check.ipynb"
NBVAL_ARGS = [
    "--nbval-lax",
    "--nbval-sanitize-with",
    "tests/nbval-sanitize.cfg",
    "--nbval-cell-timeout=300",
    "-n",
    "2",
    "--dist",
    "loadscope",
]
# PyTorch's own index of CPU-only wheels (no CUDA libraries, no triton).
TORCH_INDEXES = {"cpu": "https://download.pytorch.org/whl/cpu"}
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


class Failed(Exception):
    """A step failed; its output already explains why. Carries the exit status."""


# --------------------------------------------------------------------------- environment
def active_environment() -> Path | None:
    """The conda env or virtualenv this script runs in, if any (never conda's base)."""
    prefix = Path(sys.prefix)
    in_virtualenv = sys.prefix != sys.base_prefix
    in_conda_env = (prefix / "conda-meta").is_dir() and os.environ.get(
        "CONDA_DEFAULT_ENV"
    ) != "base"
    return prefix if (in_virtualenv or in_conda_env) else None


def environment() -> Path:
    return active_environment() or VENV


def python_of(prefix: Path) -> Path:
    """The interpreter of an environment: ``Scripts\\python.exe`` on Windows, ``bin/python``
    elsewhere (conda on Windows keeps python.exe in the prefix itself)."""
    if os.name == "nt":
        for candidate in (prefix / "Scripts" / "python.exe", prefix / "python.exe"):
            if candidate.exists():
                return candidate
        return prefix / "Scripts" / "python.exe"
    return prefix / "bin" / "python"


def stamp_path(prefix: Path, torch: str) -> Path:
    digest = hashlib.sha256()
    for name in DEPENDENCY_FILES:
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    if torch != "default":  # a different PyTorch build is a different install
        digest.update(f"torch={torch}".encode())
    return prefix / f".installed-{digest.hexdigest()[:16]}"


def tool_environment() -> dict[str, str]:
    """The environment for tools and notebooks: an inherited MPLBACKEND breaks nbval's
    figure outputs (matplotlib must pick its inline backend itself)."""
    return {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}


def run(*command: object) -> None:
    """Run one step in the repository root, showing it; a failure stops everything."""
    printable = " ".join(str(part) for part in command)
    print(f"$ {printable}", flush=True)
    status = subprocess.run([str(part) for part in command], cwd=ROOT, env=tool_environment())
    if status.returncode != 0:
        raise Failed(status.returncode)


def pip(prefix: Path, *arguments: str) -> None:
    run(python_of(prefix), "-m", "pip", *arguments)


# --------------------------------------------------------------------------- steps
def setup(torch: str = "default") -> Path:
    """Create or refresh the environment; skip everything when its stamp is current."""
    prefix = environment()
    stamp = stamp_path(prefix, torch)
    if stamp.exists():
        return prefix
    run(sys.executable, ROOT / "tools" / "system_packages.py")
    if not python_of(prefix).exists():
        run(sys.executable, "-m", "venv", prefix)
    pip(prefix, "install", "--upgrade", "--quiet", "pip")
    if torch in TORCH_INDEXES:
        # First, so that the course's own install finds torch satisfied and keeps this build.
        pip(
            prefix,
            "install",
            "--quiet",
            "--index-url",
            TORCH_INDEXES[torch],
            "torch",
            "torchvision",
        )
    pip(prefix, "install", "--quiet", "-e", f"{ROOT}[test]")
    run(python_of(prefix), ROOT / "tools" / "configure_lab.py", prefix)
    for old in prefix.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return prefix


def data(prefix: Path, *, optional: bool = True) -> None:
    """Fashion-MNIST is required; MNIST and CIFAR-10 are fetched when online, else reported.

    ``optional=False`` (the tests) fetches only what is required: the test suite reaches
    no host but 127.0.0.1, and Fashion-MNIST comes from Debian's package where it can.
    """
    python = python_of(prefix)
    run(python, "-m", "widgets.data", "fetch", "fashion-mnist")
    if optional:
        run(python, "-m", "widgets.data", "fetch", "mnist", "cifar10", "--optional")


def lab(prefix: Path) -> None:
    """JupyterLab on 127.0.0.1 only, opening on the setup check, the course in its file browser."""
    command = [
        python_of(prefix),
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.default_url={SETUP_CHECK_URL}",  # LabApp's replaces ServerApp's
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    run(*command)


def lint(prefix: Path) -> None:
    run(python_of(prefix), "-m", "ruff", "check", ".")


def test_browser_executable(prefix: Path) -> None:
    """Browser tests drive Debian's Chromium where it is installed (never downloading one
    there); on other systems (macOS, Windows, other Linux) Playwright's own Chromium."""
    if DEBIAN_CHROMIUM.exists() or shutil.which("dpkg-query"):
        return  # Debian: tools/system_packages.py installs chromium, or says how to
    run(python_of(prefix), "-m", "playwright", "install", "chromium")


def test(prefix: Path) -> None:
    python = python_of(prefix)
    lint(prefix)
    run(python, "-m", "pytest", "-m", "not browser", "tests")
    run(python, "-m", "pytest", *NBVAL_ARGS, "lessons")
    test_browser_executable(prefix)
    run(python, "-m", "pytest", "-m", "browser", "tests")


COMMANDS = {
    # name: (needs data, action after setup, help)
    "setup": (False, None, "create or refresh the environment (packages, JupyterLab settings)"),
    "data": (True, None, "fetch the datasets (Fashion-MNIST required, the others when online)"),
    "lab": (True, lab, "open JupyterLab on 127.0.0.1 at the setup check"),
    "test": (True, test, "ruff, unit tests, nbval over every notebook, browser tests"),
    "lint": (False, lint, "ruff over the package, tests and tools"),
    "sync": (False, lambda p: run(python_of(p), "tools/notebooks.py", "sync"), "jupytext --sync"),
    "notebooks": (
        True,
        lambda p: run(python_of(p), "tools/notebooks.py", "build"),
        "regenerate and execute every lesson notebook",
    ),
    "student": (
        False,
        lambda p: run(python_of(p), "tools/make_student.py"),
        "regenerate the student exercises from the solutions",
    ),
    "live": (
        False,
        lambda p: run(python_of(p), "tools/make_student.py", "--live"),
        "regenerate the lessons' live-coding copies (lessons/live/) from the lessons",
    ),
    "bench": (True, lambda p: run(python_of(p), "bench/run_all.py"), "run every benchmark"),
    "labextension": (
        False,
        lambda p: run(python_of(p), "tools/build_labextension.py"),
        "rebuild the course's JupyterLab extension (labextension/dist/; needs Node.js)",
    ),
    "site": (
        False,
        lambda p: run(python_of(p), "tools/build_site.py"),
        "build the course website in site/ from the stored notebooks (no re-execution)",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/course.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "command",
        choices=COMMANDS,
        help="; ".join(f"{name}: {help_}" for name, (_, _, help_) in COMMANDS.items()),
    )
    parser.add_argument(
        "--torch",
        choices=["default", *TORCH_INDEXES],
        default="default",
        help="'cpu': PyTorch's CPU-only wheels from PyTorch's index (Linux: ~4.7 GB less "
        "than the default CUDA build); 'default': whatever pip picks for this system",
    )
    args = parser.parse_args(argv)
    needs_data, action, _ = COMMANDS[args.command]
    try:
        prefix = setup(args.torch)
        if needs_data:
            data(prefix, optional=args.command != "test")
        if action is not None:
            action(prefix)
    except Failed as failure:
        return failure.args[0] or 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
