"""The shared decision-region plot colours the plane by the predicted class."""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from widgets.decision_regions import POINT_COLOURS, REGION_COLOURS, plot_decision_regions


def axes():
    figure = Figure()
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def test_regions_follow_the_prediction_and_points_their_true_class():
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [2.0, 1.0]], dtype=np.float32)
    y = np.array([0, 1, 0])  # the last point lies in class 1's half: drawn in class 0's colour
    seen_dtypes = []

    def right_half_is_class_1(grid):
        seen_dtypes.append(grid.dtype)
        return (grid[:, 0] > 0).astype(int)

    ax = plot_decision_regions(axes(), right_half_is_class_1, X, y, resolution=20, title="t")
    regions = ax.collections[0]
    assert [to_hex(c) for c in regions.get_facecolor()] == list(REGION_COLOURS[:2])
    points = ax.collections[-1]
    assert [to_hex(c) for c in points.get_facecolor()] == [POINT_COLOURS[i] for i in y]
    assert seen_dtypes == [np.float32]  # a float32 model is fed float32
    x_min, x_max = ax.get_xlim()
    assert x_min < -1.0 and x_max > 2.0 and ax.get_title() == "t"


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"X must be \(n, 2\)"):
        plot_decision_regions(axes(), lambda grid: grid[:, 0], np.zeros((3, 3)), [0, 1, 0])
