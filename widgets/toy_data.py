"""Seeded toy data: logic gates, blobs, moons, circles, spirals, XOR and regression surfaces.

Small 2-D data sets the lessons, the widgets and the exercise checks draw from. Every
generator takes a ``seed``, so a lesson's picture is the same on every run.
"""

from __future__ import annotations

import numpy as np

GATES = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "XOR": [0, 1, 1, 0],
}


def make_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four corners of the unit square with a logic gate's labels (0/1)."""
    key = name.upper()
    if key not in GATES:
        raise ValueError(f"unknown gate {name!r}; choose one of {', '.join(GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return X, np.array(GATES[key], dtype=np.int64)


def make_blobs(
    n: int = 100,
    *,
    separation: float = 3.0,
    spread: float = 0.8,
    margin: float = 0.25,
    seed: int = 0,
):
    """Two Gaussian blobs (labels 0/1) on either side of the line x1 + x2 = 0.

    Points closer than ``margin`` to that line are drawn again, so the blobs are linearly
    separable by construction: the perceptron convergence theorem needs exactly that.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    y = np.r_[np.zeros(half, np.int64), np.ones(n - half, np.int64)]
    centers = np.array([[-separation / 2, -separation / 2], [separation / 2, separation / 2]])
    side = np.where(y == 1, 1.0, -1.0)
    X = centers[y] + spread * rng.standard_normal((n, 2))
    for _ in range(1000):  # rejection sampling; a handful of rounds suffices in practice
        too_close = side * X.sum(axis=1) / np.sqrt(2) < margin
        if not too_close.any():
            return X, y
        X[too_close] = centers[y[too_close]] + spread * rng.standard_normal((too_close.sum(), 2))
    raise ValueError("blobs overlap too much for the margin: raise separation or lower spread")


def make_moons(n: int = 200, *, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (labels 0/1)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    angle_top = np.linspace(0, np.pi, half)
    angle_bottom = np.linspace(0, np.pi, n - half)
    top = np.c_[np.cos(angle_top), np.sin(angle_top)]
    bottom = np.c_[1 - np.cos(angle_bottom), 0.5 - np.sin(angle_bottom)]
    X = np.r_[top, bottom] + noise * rng.standard_normal((n, 2))
    y = np.r_[np.zeros(half, np.int64), np.ones(n - half, np.int64)]
    return X, y


def make_circles(n: int = 200, *, noise: float = 0.05, factor: float = 0.5, seed: int = 0):
    """A small circle (label 1) inside a large one (label 0)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    outer = np.linspace(0, 2 * np.pi, half, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n - half, endpoint=False)
    X = np.r_[np.c_[np.cos(outer), np.sin(outer)], factor * np.c_[np.cos(inner), np.sin(inner)]]
    X = X + noise * rng.standard_normal((n, 2))
    y = np.r_[np.zeros(half, np.int64), np.ones(n - half, np.int64)]
    return X, y


def make_spirals(n: int = 300, *, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """``classes`` interleaved spiral arms (labels 0..classes-1), the classic cs231n toy set."""
    rng = np.random.default_rng(seed)
    per_class = n // classes
    X = np.zeros((per_class * classes, 2))
    y = np.repeat(np.arange(classes, dtype=np.int64), per_class)
    for k in range(classes):
        radius = np.linspace(0.0, 1.0, per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, per_class) + noise * rng.standard_normal(
            per_class
        )
        X[k * per_class : (k + 1) * per_class] = np.c_[
            radius * np.sin(theta), radius * np.cos(theta)
        ]
    return X, y


def make_xor(n: int = 200, *, noise: float = 0.0, padding: float = 0.05, seed: int = 0):
    """Points spread over the square [-1, 1]², labelled 1 where x1 and x2 have the same sign
    (the first and third quadrants) and 0 elsewhere: XOR of the two signs, with many points.

    Points are drawn at least ``padding`` away from the axes, so the clean data has a gap
    along both axes; ``noise`` (a standard deviation) then jitters them, labels unchanged.
    """
    rng = np.random.default_rng(seed)
    magnitude = rng.uniform(padding, 1.0, size=(n, 2))
    X = magnitude * rng.choice([-1.0, 1.0], size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.standard_normal((n, 2)), y


REGRESSION_FUNCTIONS = {  # targets in [-1, 1] for points in [-1, 1]²
    "sine": lambda x1, x2: np.sin(np.pi * x1),  # depends on x1 only: a 1-D function
    "plane": lambda x1, x2: (x1 + x2) / 2,
    "bumps": lambda x1, x2: (
        np.exp(-4 * ((x1 - 0.5) ** 2 + (x2 - 0.5) ** 2))
        - np.exp(-4 * ((x1 + 0.5) ** 2 + (x2 + 0.5) ** 2))
    ),
}


def make_regression(function: str = "sine", n: int = 200, *, noise: float = 0.0, seed: int = 0):
    """Points uniform on [-1, 1]² and a real-valued target in [-1, 1] for each: ``"sine"``
    (sin πx1, a 1-D function: x2 is irrelevant), ``"plane"`` ((x1 + x2) / 2) or ``"bumps"``
    (a hill at (0.5, 0.5) and a pit at (-0.5, -0.5)). ``noise`` is the standard deviation
    of Gaussian noise added to the target."""
    if function not in REGRESSION_FUNCTIONS:
        raise ValueError(
            f"unknown function {function!r}; choose one of {', '.join(REGRESSION_FUNCTIONS)}"
        )
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = REGRESSION_FUNCTIONS[function](X[:, 0], X[:, 1])
    return X, y + noise * rng.standard_normal(n)
