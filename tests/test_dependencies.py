"""pyproject.toml is the one home of the dependency list; conda and Binder files must agree."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"pytorch-cpu": "torch", "pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements() -> tuple[dict[str, SpecifierSet], dict[str, SpecifierSet]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def as_dict(lines):
        return {canonical(r.name): r.specifier for r in map(Requirement, lines)}

    return as_dict(project["dependencies"]), as_dict(project["optional-dependencies"]["test"])


def conda_requirements(path: Path) -> dict[str, SpecifierSet]:
    spec = yaml.safe_load(path.read_text())
    found = {}
    for entry in spec["dependencies"]:
        lines = entry["pip"] if isinstance(entry, dict) else [entry]
        for line in lines:
            if line.startswith("-e "):
                continue
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", line.strip())
            name, specifier = match.group(1), match.group(2).replace(" ", "")
            name = CONDA_TO_PYPI.get(name, name)
            if name in NOT_PACKAGES:
                continue
            assert canonical(name) not in found, f"{path.name} lists {name} twice"
            found[canonical(name)] = SpecifierSet(specifier)
    return found


def test_environment_yml_matches_pyproject_runtime_and_test():
    runtime, test = pyproject_requirements()
    assert conda_requirements(ROOT / "environment.yml") == {**runtime, **test}


def test_binder_environment_matches_pyproject_runtime():
    runtime, _ = pyproject_requirements()
    assert conda_requirements(ROOT / "binder" / "environment.yml") == runtime


def test_conda_files_ask_for_cpu_only_pytorch():
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        assert "pytorch-cpu" in path.read_text(), f"{path} should pin the CPU-only build"


def test_ranges_admit_the_wheels_on_this_machine_and_the_installed_versions():
    runtime, test = pyproject_requirements()
    assert "2.14.1" in runtime["torch"] and "0.29.1" in runtime["torchvision"]
    for name, specifier in {**runtime, **test}.items():
        assert version(name) in specifier, f"installed {name} {version(name)} not in {specifier}"


def test_binder_installs_the_offline_dataset_and_the_package():
    # Local setups install Debian's Fashion-MNIST package; Binder's base image is not known
    # to carry it, so binder/ has no apt.txt (a missing package would fail the build).
    assert "dataset-fashion-mnist" in (ROOT / "tools" / "apt.txt").read_text().split()
    assert not (ROOT / "binder" / "apt.txt").exists()
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build
    assert "widgets.data fetch fashion-mnist" in post_build
