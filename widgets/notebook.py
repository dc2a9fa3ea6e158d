"""Small helpers every lesson uses: seeding, device choice, and showing library code.

The course keeps each function in one home: when a lesson teaches code that the
package (or a test, or an exercise check) also needs, the code lives in the package
and the lesson imports it and shows it with :func:`show_source`.
"""

from __future__ import annotations

import ctypes
import inspect
import os
import random
import sys
from pathlib import Path

import numpy as np

from widgets.claims import course_seed


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's generators; return a seeded NumPy Generator.

    The seed is shifted by ``$NN_COURSE_SEED`` (see ``widgets.claims.course_seed``), so
    the margins tool can rerun a lesson under other seeds; unset, ``seed`` is used as is.
    """
    seed = course_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:
        pass
    else:
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


def _openblas_libraries() -> list[Path]:
    """OpenBLAS libraries NumPy may use: bundled with its wheel, or loaded from the system."""
    numpy_dir = Path(np.__file__).resolve().parent
    folders = (numpy_dir.parent / "numpy.libs", numpy_dir / ".dylibs", numpy_dir / "_core")
    found = [path for folder in folders if folder.is_dir() for path in folder.glob("*openblas*")]
    maps = Path("/proc/self/maps")  # Linux: what this process has actually loaded
    if sys.platform.startswith("linux") and maps.exists():
        for line in maps.read_text().splitlines():
            path = line.split()[-1]
            if "openblas" in path.lower() and path.startswith("/"):
                found.append(Path(path))
    return list(dict.fromkeys(found))


def _openblas_function(action: str):
    """OpenBLAS's ``set_num_threads``/``get_num_threads`` under any of its export names."""
    for library in _openblas_libraries():
        try:
            handle = ctypes.CDLL(str(library))
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                function = getattr(handle, f"{prefix}_{action}_num_threads{suffix}", None)
                if function is not None:
                    return function
    return None


def blas_threads() -> int | None:
    """How many threads NumPy's matrix products use (None when it is not OpenBLAS)."""
    function = _openblas_function("get")
    return None if function is None else int(function())


def set_blas_threads(n: int) -> int | None:
    """Let NumPy's matrix products use ``n`` threads; return the previous number.

    Why: BLAS threads wait for each other by spinning, so on a machine whose cores are
    shared with other programs (Binder, a laptop with a browser open, several notebooks
    tested at once) two threads can be many times slower than one. Returns None, and does
    nothing, when NumPy does not use OpenBLAS (MKL builds read ``MKL_NUM_THREADS``).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of threads must be a positive integer, got {n!r}")
    previous = blas_threads()
    function = _openblas_function("set")
    if function is None:
        return None
    function(int(n))
    return previous


def limit_threads(n: int = 1) -> None:
    """Let NumPy's BLAS and PyTorch use ``n`` CPU threads (child processes inherit it).

    Why: the course's networks are small, and threads that share a busy machine (Binder,
    a laptop with a browser open, notebooks tested in parallel) mostly wait for each
    other; we measured epochs many times *slower* with two threads than with one there.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of threads must be a positive integer, got {n!r}")
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(n)  # read by child processes when they load the libraries
    set_blas_threads(n)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(n)


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

    >>> show_source(make_gate)   # doctest: +SKIP
    """
    parts = [inspect.getsource(obj) for obj in objects]
    return _Source("\n\n".join(part.rstrip("\n") + "\n" for part in parts))
