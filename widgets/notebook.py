"""Small helpers every lesson uses: seeding, device choice, and showing library code.

The course keeps each function in one home: when a lesson teaches code that the
package (or a test, or an exercise check) also needs, the code lives in the package
and the lesson imports it and shows it with :func:`show_source`.
"""

from __future__ import annotations

import inspect
import os
import random

import numpy as np


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's generators; return a seeded NumPy Generator."""
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
