"""Decision regions of a 2-D classifier: the one plot lessons and exercises share.

``plot_decision_regions(axes, predict, X, y)`` colours the plane by the class ``predict``
gives each point of a grid (light colours) and draws the data on top (dark colours of
the same hue), so a point on the wrong side of the boundary stands out. ``predict``
is any function from an ``(n, 2)`` array to ``n`` integer labels: a NumPy network's
``predict``, ``lambda grid: predict_classes(layers, grid)``, a PyTorch model's argmax.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# matplotlib's tab10 (class 0 blue, 1 orange, 2 green, ...) and their tab20 light twins.
POINT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
REGION_COLOURS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")


def plot_decision_regions(
    axes,
    predict: Callable[[np.ndarray], np.ndarray],
    X,
    y,
    *,
    limits: tuple[float, float, float, float] | None = None,
    resolution: int = 150,
    title: str | None = None,
    point_size: float = 10,
):
    """Colour ``axes`` by ``predict``'s class over a grid and scatter ``(X, y)`` on top.

    ``limits`` is ``(x_min, x_max, y_min, y_max)``; by default the data's range plus a
    tenth on each side. The grid has the dtype of ``X``, so a float32 model gets float32.
    Returns ``axes``.
    """
    X, y = np.asarray(X), np.asarray(y).astype(int)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) != len(y):
        raise ValueError(
            f"X must be (n, 2) points with one label each; got X {X.shape} and y {y.shape}"
        )
    if limits is None:
        low, high = X.min(axis=0), X.max(axis=0)
        pad = 0.1 * (high - low) + 1e-9
        limits = (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])
    x_min, x_max, y_min, y_max = limits
    grid_x, grid_y = np.meshgrid(
        np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    )
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else float
    grid = np.c_[grid_x.ravel(), grid_y.ravel()].astype(dtype)
    predicted = np.asarray(predict(grid)).astype(int).reshape(grid_x.shape)
    n_classes = int(max(predicted.max(), y.max())) + 1
    if n_classes > len(POINT_COLOURS):
        raise ValueError(f"at most {len(POINT_COLOURS)} classes can be coloured, got {n_classes}")
    axes.contourf(
        grid_x,
        grid_y,
        predicted,
        levels=np.arange(-0.5, n_classes),
        colors=REGION_COLOURS[:n_classes],
    )
    axes.scatter(*X.T, c=[POINT_COLOURS[label] for label in y], s=point_size)
    axes.set(xlim=(x_min, x_max), ylim=(y_min, y_max), xticks=[], yticks=[])
    if title is not None:
        axes.set_title(title)
    return axes
