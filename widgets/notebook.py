"""Small helpers every lesson uses: seeding, device choice, and showing library code.

The course keeps each function in one home: when a lesson teaches code that the
package (or a test, or an exercise check) also needs, the code lives in the package
and the lesson imports it and shows it with :func:`show_source`.
"""

from __future__ import annotations

import inspect
import os
import random
import sys
import textwrap

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from widgets.claims import course_seed


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's generators; return a seeded NumPy Generator.

    The seed is shifted by ``$NN_COURSE_SEED`` (see ``widgets.claims.course_seed``), so
    the margins tool can rerun a lesson under other seeds; unset, ``seed`` is used as is.

    PyTorch is seeded when it has been imported (import it first, as lessons 3-6 do):
    importing it here would cost a NumPy-only lesson 200 MB (CPU build) to 700 MB (CUDA
    build) of memory, which two open lessons on Binder cannot afford.
    """
    seed = course_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(prefer: str | None = None):
    """The best torch device here: CUDA, then Apple's MPS, then the CPU.

    ``prefer`` (or ``$NN_COURSE_DEVICE``) forces one, e.g. "cpu" for reproducible runs.
    """
    import torch

    choice = prefer or os.environ.get("NN_COURSE_DEVICE")
    if choice:
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _pools(user_api: str) -> list[dict]:
    """The thread pools of one kind ("blas" or "openmp") loaded in this process."""
    return [pool for pool in threadpool_info() if pool["user_api"] == user_api]


def blas_threads() -> int | None:
    """The most threads a matrix product may use: the largest setting of any loaded BLAS
    (OpenBLAS, MKL, BLIS, whichever NumPy and PyTorch brought); None when none is loaded."""
    pools = _pools("blas")
    return max(pool["num_threads"] for pool in pools) if pools else None


def set_blas_threads(n: int) -> int | None:
    """Let every loaded BLAS use ``n`` threads; return the previous :func:`blas_threads`.

    Why: BLAS threads wait for each other by spinning, so on a machine whose cores are
    shared with other programs (Binder, a laptop with a browser open, several notebooks
    tested at once) two threads can be many times slower than one.
    """
    _require_positive(n)
    previous = blas_threads()
    threadpool_limits(limits=int(n), user_api="blas")
    return previous


def limit_threads(n: int = 1) -> None:
    """Let NumPy's BLAS, OpenMP and PyTorch use ``n`` CPU threads (child processes too).

    Why: the course's networks are small, and threads that share a busy machine (Binder,
    a laptop with a browser open, notebooks tested in parallel) mostly wait for each
    other; we measured epochs many times *slower* with two threads than with one there.
    threadpoolctl finds every BLAS (OpenBLAS, MKL) and OpenMP runtime loaded so far; a
    PyTorch imported later reads the environment variables set here (not imported here,
    for the memory reason given in :func:`seed_everything`).
    """
    _require_positive(n)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        # read by libraries loaded later in this process and by child processes
        os.environ[variable] = str(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    threadpool_limits(limits=n)  # after torch's set_num_threads, so its OpenMP is limited too


def _require_positive(n) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of threads must be a positive integer, got {n!r}")


class _Source:
    """Source code that renders highlighted in Jupyter and as plain text elsewhere."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.text}```"


def show_source(*objects) -> _Source:
    """Show the source code of functions or classes from the package, as the lesson's text.

    Each one is headed by the file it lives in (d2l's "Defined in ..."), so a reader
    knows where to find, or change, the code the lesson shows.

    >>> show_source(make_gate)   # doctest: +SKIP
    """
    # Dedented, so that a method reads like the function it is.
    parts = [
        f"# Defined in {_home(obj)}\n{textwrap.dedent(inspect.getsource(obj))}" for obj in objects
    ]
    return _Source("\n\n".join(part.rstrip("\n") + "\n" for part in parts))


def _home(obj) -> str:
    """Where a lesson's reader finds ``obj``: its module as a path, e.g. widgets/gradcheck.py."""
    module = inspect.getmodule(obj)
    return module.__name__.replace(".", "/") + ".py" if module else "this notebook"
