"""A wheel built from the project holds every subpackage and imports without the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_built_wheel_contains_the_checks_and_imports_them(tmp_path):
    # Build from a copy, so the checkout gets no build/ or egg-info from the test.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "widgets", project / "widgets", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(wheels),
            str(project),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("nn_course_widgets-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"widgets/checks/__init__.py", "widgets/checks/ex05_pytorch_mnist.py"} <= names
    assert "widgets/autodiff.py" in names

    # Import from the wheel itself (a zip on sys.path), in a folder far from the checkout.
    code = (
        f"import sys; sys.path.insert(0, {str(wheel)!r}); "
        "from widgets.checks import ex05_pytorch_mnist; print(ex05_pytorch_mnist.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(wheel))
