"""widgets.notebook: seeding, thread limits and showing package source in lessons."""

import os

import numpy as np
import pytest
import torch

from widgets import notebook
from widgets.data import make_gate


def test_seed_everything_makes_numpy_torch_and_the_returned_generator_repeat():
    first = notebook.seed_everything(7)
    draws = (first.random(3), np.random.rand(3), torch.rand(3))
    second = notebook.seed_everything(7)
    again = (second.random(3), np.random.rand(3), torch.rand(3))
    for a, b in zip(draws, again, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_blas_thread_control_round_trips():
    previous = notebook.blas_threads()
    if previous is None:
        pytest.skip("NumPy does not use OpenBLAS here")
    try:
        assert notebook.set_blas_threads(1) == previous
        assert notebook.blas_threads() == 1
    finally:
        notebook.set_blas_threads(previous)
    assert notebook.blas_threads() == previous
    with pytest.raises(ValueError, match="positive"):
        notebook.set_blas_threads(0)


def test_limit_threads_sets_torch_blas_and_child_environment(monkeypatch):
    torch_before, blas_before = torch.get_num_threads(), notebook.blas_threads()
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    try:
        notebook.limit_threads(1)
        assert torch.get_num_threads() == 1
        assert notebook.blas_threads() in (1, None)
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    finally:
        torch.set_num_threads(torch_before)
        if blas_before is not None:
            notebook.set_blas_threads(blas_before)
    with pytest.raises(ValueError, match="positive"):
        notebook.limit_threads(0)


def test_show_source_renders_the_package_code_as_markdown():
    shown = notebook.show_source(make_gate)
    assert repr(shown).startswith("def make_gate(name: str)")
    assert shown._repr_markdown_().startswith("```python\ndef make_gate")
