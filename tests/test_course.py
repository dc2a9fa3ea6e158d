"""tools/course.py, the entry point behind the Makefile: what it runs, in which order, and
that an up-to-date environment is left alone. Commands are recorded, not run."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("course", ROOT / "tools" / "course.py")
course = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course)


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """Every command course.py would run, with a fresh environment folder in tmp_path."""
    commands = []
    prefix = tmp_path / "env"

    def record(*command):
        commands.append([str(part) for part in command])
        if command[1:3] == ("-m", "venv"):  # the venv "exists" afterwards
            course.python_of(prefix).parent.mkdir(parents=True)
            course.python_of(prefix).touch()

    monkeypatch.setattr(course, "run", record)
    monkeypatch.setattr(course, "environment", lambda: prefix)
    return commands, prefix


def test_setup_creates_the_environment_installs_and_stamps_it_once(recorded):
    commands, prefix = recorded
    assert course.main(["setup"]) == 0
    python = str(course.python_of(prefix))
    assert commands[1] == [sys.executable, "-m", "venv", str(prefix)]
    assert [python, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"] in commands
    assert commands[-1] == [python, str(ROOT / "tools" / "configure_lab.py"), str(prefix)]
    assert [p.name for p in prefix.glob(".installed-*")] == [
        course.stamp_path(prefix, "default").name
    ]
    commands.clear()
    assert course.main(["setup"]) == 0
    assert commands == []  # up to date: nothing reinstalled


def test_cpu_torch_comes_from_pytorchs_index_before_the_course_and_has_its_own_stamp(recorded):
    commands, prefix = recorded
    course.main(["setup", "--torch", "cpu"])
    pip_installs = [c[c.index("install") :] for c in commands if "pip" in c and "install" in c]
    cpu_index = ["install", "--quiet", "--index-url", "https://download.pytorch.org/whl/cpu"]
    assert pip_installs[1] == [*cpu_index, "torch", "torchvision"]
    assert pip_installs[2][-1] == f"{ROOT}[test]"
    assert course.stamp_path(prefix, "cpu") != course.stamp_path(prefix, "default")
    assert course.stamp_path(prefix, "cpu").exists()


def test_test_runs_lint_units_nbval_then_browser_tests(recorded, monkeypatch):
    commands, prefix = recorded
    monkeypatch.setattr(course, "DEBIAN_CHROMIUM", ROOT)  # "present": no browser download
    course.main(["setup"])
    commands.clear()
    course.main(["test"])
    python = str(course.python_of(prefix))
    assert commands == [  # only the required data: the tests reach no host but 127.0.0.1
        [python, "-m", "widgets.data", "fetch", "fashion-mnist"],
        [python, "-m", "ruff", "check", "."],
        [python, "-m", "pytest", "-m", "not browser", "tests"],
        [python, "-m", "pytest", *course.NBVAL_ARGS, "lessons"],
        [python, "-m", "pytest", "-m", "browser", "tests"],
    ]


def test_playwrights_chromium_is_installed_only_where_debian_has_none(recorded, monkeypatch):
    commands, prefix = recorded
    monkeypatch.setattr(course, "DEBIAN_CHROMIUM", Path("/no/such/chromium"))
    monkeypatch.setattr(course.shutil, "which", lambda name: None)  # not Debian
    course.test_browser_executable(prefix)
    assert commands == [[str(course.python_of(prefix)), "-m", "playwright", "install", "chromium"]]
    commands.clear()
    monkeypatch.setattr(course.shutil, "which", lambda name: "/usr/bin/dpkg-query")
    course.test_browser_executable(prefix)
    assert commands == []  # Debian: its chromium package, never a download


def test_a_failing_step_stops_with_its_exit_status(recorded, monkeypatch):
    monkeypatch.setattr(course, "setup", lambda torch: recorded[1])

    def failing_lint(prefix):
        raise course.Failed(3)

    monkeypatch.setitem(course.COMMANDS, "lint", (False, failing_lint, "ruff"))
    assert course.main(["lint"]) == 3


def test_data_fetches_the_optional_datasets_but_test_does_not(recorded):
    commands, prefix = recorded
    course.main(["setup"])
    commands.clear()
    course.main(["data"])
    python = str(course.python_of(prefix))
    assert commands == [
        [python, "-m", "widgets.data", "fetch", "fashion-mnist"],
        [python, "-m", "widgets.data", "fetch", "mnist", "cifar10", "--optional"],
    ]
