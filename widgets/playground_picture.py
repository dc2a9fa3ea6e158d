"""The network playground's picture: one persistent matplotlib Agg figure, redrawn in place.

Network diagram (a heatmap per input feature and hidden unit, edges coloured and
thickened by weight), the output over the plane with the training and test points, and
the loss curves. Pure drawing: it reads a ``PlaygroundModel`` and never changes it.
"""

from __future__ import annotations

import numpy as np

from widgets.playground_data import VIEW_LIMIT

# --------------------------------------------------------------------------- colours
# TensorFlow Playground's palette: orange for negative (class 0), blue for positive (class 1).
_NEGATIVE, _ZERO, _POSITIVE = (
    np.array(c) for c in ((245, 147, 34), (232, 234, 235), (8, 119, 189))
)
_RAMP = np.linspace(0, 1, 128)[:, None]
_LUT = (
    np.concatenate([_NEGATIVE + (_ZERO - _NEGATIVE) * _RAMP, _ZERO + (_POSITIVE - _ZERO) * _RAMP])
    .round()
    .astype(np.uint8)
)


def _colours(values: np.ndarray) -> np.ndarray:
    """uint8 RGB for values in [-1, 1] (clipped): orange, grey-white at 0, blue."""
    index = np.clip(((np.asarray(values) + 1) * 127.5).astype(int), 0, 255)
    return _LUT[index]


FEATURE_LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1^2": "x₁²",
    "x2^2": "x₂²",
    "x1*x2": "x₁x₂",
    "sin(x1)": "sin x₁",
    "sin(x2)": "sin x₂",
}


# --------------------------------------------------------------------------- the picture
class PlaygroundPicture:
    """The figure: network diagram (a heatmap per unit, edges by weight), output region with
    the data, and loss curves. ``update(model, show_test)`` redraws its canvas.

    Speed (a Play tick redraws everything, within a few tens of milliseconds): axes, labels
    and ticks are drawn once and kept as pixels; each update redraws only the changing
    artists on top of them (blitting), unless the layout changed (new data, features or
    layers, or the loss curve outgrowing its axes). The unit tiles are pasted straight into
    the canvas's pixels: the diagram's coordinates are its pixels, so nothing is resampled.
    """

    RESOLUTION = 44  # grid points per side for the output region; unit tiles use every 2nd
    TILE, SPACING = 22, 26  # unit tiles and their vertical distance, in pixels

    def __init__(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(10, 4.125), dpi=72)
        FigureCanvasAgg(self.figure)
        self.ax_net = self.figure.add_axes((0.0, 0.25, 0.59, 0.75))
        box = self.ax_net.get_window_extent()
        self.diagram_size = (int(box.width), int(box.height))
        # Pixel (0, 0) of the diagram is its top-left corner, in the canvas buffer's rows.
        self._diagram_corner = (int(round(box.x0)), int(round(self.figure.bbox.height - box.y1)))
        self.ax_net.set(xlim=(0, box.width), ylim=(box.height, 0))
        self.ax_net.axis("off")
        self.ax_loss = self.figure.add_axes((0.07, 0.07, 0.5, 0.14))
        self.ax_loss.tick_params(labelsize=7)
        self.ax_region = self.figure.add_axes((0.615, 0.06, 0.37, 0.88))
        self.ax_region.set(xlim=(-VIEW_LIMIT, VIEW_LIMIT), ylim=(-VIEW_LIMIT, VIEW_LIMIT))
        self.ax_region.tick_params(labelsize=7)

        self.edges = LineCollection([])
        self.ax_net.add_collection(self.edges)
        # The output region is pasted as pixels too: grid cell of every pixel inside the axes.
        box = self.ax_region.get_window_extent()
        left, top = int(round(box.x0)) + 1, int(round(self.figure.bbox.height - box.y1)) + 1
        width, height = int(box.width) - 2, int(box.height) - 2  # inside the frame
        self._region_box = (top, left, height, width)
        self._region_columns = (np.arange(width) * self.RESOLUTION) // width
        self._region_rows = ((np.arange(height) * self.RESOLUTION) // height)[::-1]  # y up
        # One scatter per class and split: a single face colour each takes Agg's fast path.
        scatter = dict(s=14, linewidths=0.6)
        self.points = {
            (split, label): self.ax_region.scatter(
                [], [], edgecolors="white" if split == "train" else "black", **scatter
            )
            for split in ("train", "test")
            for label in (0, 1)
        }
        (self.train_curve,) = self.ax_loss.plot([], [], color="0.6", lw=1.2)
        (self.test_curve,) = self.ax_loss.plot([], [], color="black", lw=1.2)
        self.ax_loss.text(
            0.99,
            0.93,
            "loss: train (grey), test (black)",
            transform=self.ax_loss.transAxes,
            ha="right",
            va="top",
            fontsize=8,
        )
        self.dynamic_artists = [*self.points.values(), self.train_curve, self.test_curve]
        for artist in [self.edges, *self.dynamic_artists]:
            artist.set_animated(True)
        self._labels = []
        self._layout_key = None
        self._background = None

    # ---- layout (changes rarely: full redraw)
    def _node_centres(self, sizes: list[int]) -> list[np.ndarray]:
        width, height = self.diagram_size
        xs = np.linspace(62, width - 12 - self.TILE / 2, len(sizes)).round()
        middle = (height + 16) / 2  # the top 16 pixels hold the column headers
        return [
            np.c_[np.full(n, x), (middle + (np.arange(n) - (n - 1) / 2) * self.SPACING).round()]
            for x, n in zip(xs, sizes, strict=True)
        ]

    def _set_layout(self, model, show_test: bool) -> None:
        for label in self._labels:
            label.remove()
        self._labels = []
        sizes = [*model.layer_sizes[:-1], 1]  # one output unit: see model.weights()
        self.centres = self._node_centres(sizes)
        half = self.TILE / 2
        for (x, y), name in zip(self.centres[0], model.features, strict=True):
            self._labels.append(
                self.ax_net.text(
                    x - half - 5, y, FEATURE_LABELS[name], ha="right", va="center", fontsize=9
                )
            )
        headers = ["features", *(f"{n} unit{'s' * (n > 1)}" for n in model.hidden), "output"]
        for centres, header in zip(self.centres, headers, strict=True):
            top = centres[0, 1] - half - 6
            self._labels.append(
                self.ax_net.text(centres[0, 0], top, header, ha="center", va="bottom", fontsize=8)
            )
        segments = []
        for source, target in zip(self.centres[:-1], self.centres[1:], strict=True):
            for start in source:
                for end in target:
                    segments.append([(start[0] + half, start[1]), (end[0] - half, end[1])])
        self.edges.set_segments(segments)
        data = {"train": (model.X_train, model.y_train), "test": (model.X_test, model.y_test)}
        for (split, label), points in self.points.items():
            X, y = data[split]
            if split == "test" and not show_test:
                X, y = X[:0], y[:0]
            if model.classification:
                chosen = y == label
                points.set_offsets(X[chosen])
                points.set_facecolor(_colours(2.0 * label - 1.0) / 255)
            else:  # regression: one scatter per split, coloured by each point's target
                chosen = slice(None) if label == 0 else slice(0)
                points.set_offsets(X[chosen])
                points.set_facecolors(_colours(y[chosen, 0]) / 255)
        self.ax_region.set_title(
            f"output on {model.dataset}"
            + (" (test points ringed black)" if show_test else " (training points)"),
            fontsize=9,
        )

    def _loss_limits(self, model, limits) -> tuple:
        """Axes limits that hold the loss curves; grown by doubling, so rarely changed."""
        epochs = max(model.epoch, 1)
        largest = max(max(r["train_loss"], r["test_loss"]) for r in model.history)
        if limits is None or epochs > limits[0] or largest > limits[1]:
            x_limit = limits[0] if limits is not None else 50
            while x_limit < epochs:
                x_limit *= 2
            limits = (x_limit, largest * 1.15 if np.isfinite(largest) else 10.0)
        return limits

    # ---- every frame
    def update(self, model, show_test: bool = True) -> None:
        """Draw the model's current state onto the figure's canvas (encode it to send it)."""
        limits = self._loss_limits(model, self._layout_key[-1] if self._layout_key else None)
        key = (
            model.dataset,
            model.noise,
            model.train_fraction,
            model.n_points,
            model.seed,
            model.features,
            model.hidden,
            show_test,
            limits,
        )
        full = key != self._layout_key
        if full:
            self._set_layout(model, show_test)
            self.ax_loss.set(xlim=(0, limits[0]), ylim=(0, limits[1]))
            self._layout_key = key
        maps = model.maps(self.RESOLUTION)
        output = maps["output"] * 2 - 1 if model.classification else maps["output"]
        self._update_edges(model.weights())
        epochs = [r["epoch"] for r in model.history]
        self.train_curve.set_data(epochs, [r["train_loss"] for r in model.history])
        self.test_curve.set_data(epochs, [r["test_loss"] for r in model.history])
        canvas = self.figure.canvas
        if full or self._background is None:
            canvas.draw()  # everything except the animated artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        self.figure.draw_artist(self.edges)
        self._paste_tiles(maps, output)  # over the edges' ends
        top, left, height, width = self._region_box
        pixels = np.asarray(canvas.buffer_rgba())
        region = _colours(output)[np.ix_(self._region_rows, self._region_columns)]
        pixels[top : top + height, left : left + width, :3] = region  # under the points
        for artist in self.dynamic_artists:
            self.figure.draw_artist(artist)

    def _paste_tiles(self, maps: dict, output: np.ndarray) -> None:
        """Each feature's and unit's map, scaled to its own largest |value|, into the canvas."""
        pixels = np.asarray(self.figure.canvas.buffer_rgba())
        left0, top0 = self._diagram_corner
        half = self.TILE // 2
        columns = [maps["features"], *maps["hidden"], output[None]]
        for centres, values in zip(self.centres, columns, strict=True):
            tiles = values[:, ::2, ::2][:, ::-1]  # every 2nd grid point; row 0 at the top
            scale = np.maximum(np.abs(tiles).max(axis=(1, 2), keepdims=True), 1e-6)
            for (x, y), tile in zip(centres, _colours(tiles / scale), strict=True):
                top, left = top0 + int(y) - half, left0 + int(x) - half
                pixels[top : top + self.TILE, left : left + self.TILE, :3] = tile
                pixels[top : top + self.TILE, left : left + self.TILE, 3] = 255

    def _update_edges(self, weights: list[np.ndarray]) -> None:
        # W is (target, source); the segments run source by source, each to every target
        flat = np.concatenate([W.T.ravel() for W in weights])
        colours = np.ones((len(flat), 4))
        colours[:, :3] = _colours(np.sign(flat)) / 255
        colours[:, 3] = np.clip(0.25 + np.abs(flat), 0.25, 0.9)
        self.edges.set_color(colours)
        self.edges.set_linewidths(np.clip(np.abs(flat) * 2.0, 0.3, 5.0))
