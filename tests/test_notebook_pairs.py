"""Every lesson .py (jupytext py:percent, the source) and its .ipynb (with outputs) agree."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notebook_tools)


def test_every_lesson_pair_is_in_sync():
    assert notebook_tools.notebooks(), "no notebooks found under lessons/"
    assert notebook_tools.out_of_sync() == []


def test_every_notebook_holds_the_outputs_of_a_full_run():
    import nbformat

    for path in notebook_tools.notebooks():
        notebook = nbformat.read(path, as_version=4)
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        not_run = [i for i, cell in enumerate(code_cells) if cell.execution_count is None]
        assert not not_run, f"{path.name}: code cells {not_run} never ran (run `make notebooks`)"
        counts = [cell.execution_count for cell in code_cells]
        assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not one top-to-bottom run"
