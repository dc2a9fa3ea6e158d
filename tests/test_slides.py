"""Every lesson presents as RISE slides: its stored notebook carries the slide metadata its
headings give (written by tools/notebooks.py, never by hand), and the .py sources stay free
of it. The browser test (tests/browser/test_slides.py) presents one in JupyterLab."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
import tomllib
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notebook_tools)

LESSON_NOTEBOOKS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))
PRESENTED = LESSON_NOTEBOOKS + sorted((ROOT / "lessons" / "live").glob("*.ipynb"))


def test_every_lesson_is_presented():
    assert [p.name[:2] for p in LESSON_NOTEBOOKS] == ["00", "01", "02", "03", "04", "05", "06"]
    assert all(notebook_tools.presented(path) for path in PRESENTED)
    exercises = sorted((ROOT / "lessons" / "exercises").rglob("*.ipynb"))
    assert exercises and not any(notebook_tools.presented(path) for path in exercises)


@pytest.mark.parametrize("path", PRESENTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_stored_slide_metadata_is_what_the_headings_give(path):
    assert notebook_tools.slide_metadata_problems(path) == []


@pytest.mark.parametrize("path", LESSON_NOTEBOOKS, ids=lambda p: p.stem)
def test_each_numbered_section_is_a_slide(path):
    notebook = nbformat.read(path, as_version=4)
    slides = [c for c in notebook.cells if c.metadata["slideshow"]["slide_type"] == "slide"]
    headings = [
        c for c in notebook.cells if c.cell_type == "markdown" and re.match(r"\s*#{1,2} ", c.source)
    ]
    assert slides[0] is notebook.cells[0] and len(slides) == len(headings) >= 5
    assert all(c.cell_type == "markdown" for c in slides)


def test_sources_carry_no_slide_metadata():
    for source in sorted((ROOT / "lessons").rglob("*.py")):
        assert "slideshow" not in source.read_text(), source.name


def test_slide_types_follow_the_headings():
    notebook = new_notebook(
        cells=[
            new_code_cell("import numpy as np"),  # the first cell always opens the show
            new_markdown_cell("## 1. A section"),
            new_markdown_cell("Prose under it, with a # in the text"),
            new_code_cell("## a comment that looks like a heading"),
            new_markdown_cell("\n### A subsection"),
            new_markdown_cell("#### Smaller headings stay on the slide"),
        ]
    )
    notebook_tools.add_slide_metadata(notebook)
    types = [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells]
    assert types == ["slide", "slide", "-", "-", "subslide", "-"]
    assert notebook.metadata["rise"] == {"scroll": True}


def test_writing_slide_metadata_keeps_outputs_and_runs_nothing(tmp_path):
    source = LESSON_NOTEBOOKS[1]
    copy = tmp_path / "lessons" / source.name
    copy.parent.mkdir()
    copy.write_text(source.read_text())
    stored = nbformat.read(source, as_version=4)
    for cell in stored.cells:
        cell.metadata.pop("slideshow", None)
    nbformat.write(stored, copy)
    original_root = notebook_tools.ROOT
    try:
        notebook_tools.ROOT = tmp_path  # for the file names in messages
        assert notebook_tools.slide_metadata_problems(copy)  # the metadata is gone...
        notebook_tools.write_slide_metadata(copy)
        assert notebook_tools.slide_metadata_problems(copy) == []  # ...and back
    finally:
        notebook_tools.ROOT = original_root
    rewritten = nbformat.read(copy, as_version=4)
    assert [c.get("outputs") for c in rewritten.cells] == [c.get("outputs") for c in stored.cells]
    assert [c.id for c in rewritten.cells] == [c.id for c in stored.cells]


def test_rise_for_jupyterlab_is_a_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(line.startswith("jupyterlab-rise") for line in project["dependencies"])
