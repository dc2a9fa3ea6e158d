"""The package's shape, as CONTRIBUTING.md describes it: models apart from views, small files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "widgets"

# Models: plain NumPy/PyTorch, usable and testable without a frontend or a plotting library.
MODELS = [
    "widgets.autodiff",
    "widgets.backprop_tape",
    "widgets.backprop_network",
    "widgets.gradcheck",
    "widgets.perceptron",
    "widgets.training_history",
]


@pytest.mark.parametrize("module", MODELS)
def test_models_import_neither_matplotlib_nor_ipywidgets(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('matplotlib', 'ipywidgets') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_no_module_is_longer_than_a_reader_can_hold():
    lengths = {
        path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in lengths.items() if n > 520} == {}  # "about 500"
