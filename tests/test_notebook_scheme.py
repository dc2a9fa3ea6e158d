"""The notebook-test scheme holds everywhere (CONTRIBUTING.md, "Notebooks and nbval").

nbval runs every cell of every notebook with ``--nbval-lax``: a cell's output is compared
only when the cell is tagged ``nbval-check-output``, and only cells whose output is exact
by construction carry that tag. Figures from training are asserted with ``check_claim``.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    path for path in (ROOT / "lessons").rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts
)
# Float rounding noise such as 4.2e-17: print "< 1e-12" instead (a bound after "<" is fine).
ROUNDING_NOISE = re.compile(r"(?<![<\d.])(?<!< )\d+(?:\.\d+)?[eE]-1[3-9]\b")
# Comment markers would show in the student's view; the scheme uses tags only.
COMMENT_MARKERS = re.compile(r"#\s*NBVAL_", re.IGNORECASE)


def cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def output_text(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def test_make_test_runs_nbval_in_lax_mode():
    # `make test` is `python tools/course.py test`, which holds the nbval flags
    spec = importlib.util.spec_from_file_location("course", ROOT / "tools" / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    assert "--nbval-lax" in course.NBVAL_ARGS and "--nbval-sanitize-with" in course.NBVAL_ARGS
    assert "--nbval" not in course.NBVAL_ARGS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_one_scheme_tags_only(notebook):
    for cell in cells(notebook):
        tags = cell.get("metadata", {}).get("tags", [])
        assert "nbval-ignore-output" not in tags, "lax mode already ignores untagged cells"
        if cell["cell_type"] == "code":
            assert not COMMENT_MARKERS.search("".join(cell["source"]))
        if "nbval-check-output" in tags:
            assert cell["cell_type"] == "code" and cell.get("outputs"), (
                "a compared cell must have outputs to compare"
            )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_no_rounding_noise_in_stored_outputs(notebook):
    for index, cell in enumerate(cells(notebook)):
        noise = ROUNDING_NOISE.findall(output_text(cell))
        assert not noise, f"cell {index} prints rounding noise {noise}: print '< 1e-12'"


def test_the_lessons_compare_some_outputs():
    """Lax mode must not silently compare nothing: each lesson keeps its exact cells."""
    for notebook in NOTEBOOKS:
        if notebook.parent.name == "lessons":
            tagged = [
                c for c in cells(notebook) if "nbval-check-output" in c["metadata"].get("tags", [])
            ]
            assert len(tagged) >= 2, f"{notebook.name}: no compared outputs"
