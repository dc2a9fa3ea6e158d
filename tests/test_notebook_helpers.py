"""widgets.notebook: seeding, thread limits and showing package source in lessons."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from widgets import notebook
from widgets.toy_data import make_gate


def test_seed_everything_makes_numpy_torch_and_the_returned_generator_repeat():
    first = notebook.seed_everything(7)
    draws = (first.random(3), np.random.rand(3), torch.rand(3))
    second = notebook.seed_everything(7)
    again = (second.random(3), np.random.rand(3), torch.rand(3))
    for a, b in zip(draws, again, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_blas_thread_control_round_trips():
    previous = notebook.blas_threads()
    assert previous is not None  # NumPy's wheel brings a BLAS, so threadpoolctl must see one
    try:
        assert notebook.set_blas_threads(1) == previous
        assert notebook.blas_threads() == 1
    finally:
        notebook.set_blas_threads(previous)
    assert notebook.blas_threads() == previous
    with pytest.raises(ValueError, match="positive"):
        notebook.set_blas_threads(0)


def test_limit_threads_sets_torch_every_blas_and_openmp_pool_and_child_environment(
    monkeypatch,
):
    torch_before = torch.get_num_threads()
    pools_before = threadpool_info()
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    try:
        notebook.limit_threads(1)
        assert torch.get_num_threads() == 1
        pools = [p for p in threadpool_info() if p["user_api"] in ("blas", "openmp")]
        assert any(p["user_api"] == "blas" for p in pools)
        assert {p["filepath"]: p["num_threads"] for p in pools} == {p["filepath"]: 1 for p in pools}
        assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"
    finally:
        torch.set_num_threads(torch_before)
        for pool in pools_before:
            threadpool_limits(pool["num_threads"], user_api=pool["user_api"])
    with pytest.raises(ValueError, match="positive"):
        notebook.limit_threads(0)


def test_show_source_heads_the_package_code_with_its_home_as_markdown():
    shown = notebook.show_source(make_gate)
    assert repr(shown).startswith("# Defined in widgets/toy_data.py\ndef make_gate(name: str)")
    assert shown._repr_markdown_().startswith("```python\n# Defined in widgets/toy_data.py\n")


def test_show_source_dedents_methods():
    shown = notebook.show_source(notebook._Source.__repr__)
    assert repr(shown).startswith("# Defined in widgets/notebook.py\ndef __repr__(self)")


def test_seeding_and_thread_limits_leave_pytorch_unimported_for_numpy_only_lessons():
    # importing torch costs 200-700 MB: a NumPy lesson must not pay it just to be seeded
    script = (
        "import sys\n"
        "from widgets.notebook import limit_threads, seed_everything\n"
        "seed_everything(3)\n"
        "limit_threads(1)\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
