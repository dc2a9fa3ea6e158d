"""The network playground's model: TensorFlow Playground's controls over the course's own network.

Everything here is plain NumPy, so tests, instructors and students drive it from code
and the view (``widgets/playground.py``) only wires widgets to these methods::

    model = PlaygroundModel(dataset="circle", features=("x1^2", "x2^2"), hidden=())
    model.run(epochs=50)                    # the Play button runs a few epochs per tick
    model.test_accuracy                     # 1.0: one unit on x1², x2² separates the circle
    model.add_layer(); model.set(lr=0.1, regularization="L2")
    print(model.to_numpy_code())            # "show me the code"

The network is built from ``widgets.numpy_nn`` layers (Dense, ReLU/Tanh/Sigmoid,
Dropout), its losses and optimizers, and trained by the same loop the exported code
prints, with one ``numpy.random.Generator`` (seeded by ``seed``) drawing the initial
weights, the batch order and the dropout masks, in that order. So a fresh model trained
for n epochs has exactly the weights that ``to_numpy_code(epochs=n)`` computes.
"""

from __future__ import annotations

import numpy as np

from widgets import numpy_nn as nn
from widgets.playground_code import numpy_code, torch_code
from widgets.playground_data import (
    CLASSIFICATION_DATA,
    DATASETS,
    FEATURES,
    VIEW_LIMIT,
    feature_matrix,
    playground_data,
)

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": None}
REGULARIZATIONS = ("none", "L1", "L2")
OPTIMIZERS = ("SGD", "Adam")
MAX_LAYERS, MAX_UNITS = 6, 8

DEFAULTS = {  # TensorFlow Playground's defaults
    "dataset": "circle",
    "noise": 0.0,
    "train_fraction": 0.5,
    "n_points": 500,
    "seed": 0,
    "features": ("x1", "x2"),
    "hidden": (4, 2),
    "activation": "tanh",
    "lr": 0.03,
    "batch_size": 10,
    "regularization": "none",
    "regularization_rate": 0.001,
    "dropout": 0.0,
    "optimizer": "SGD",
}
_DATA_SETTINGS = {"dataset", "noise", "train_fraction", "n_points", "seed"}


# --------------------------------------------------------------------------- checks
def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(map(str, choices))}")
    return value


def _check_number(name: str, value, low: float, high: float, *, low_open: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not (low < number if low_open else low <= number) or not number <= high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must lie in {bracket}{low:g}, {high:g}], not {value!r}")
    return number


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie between {low} and {high}, not {value!r}")
    return int(value)


def _check_features(features) -> tuple[str, ...]:
    if isinstance(features, str):
        features = (features,)
    chosen = set(features)
    unknown = chosen - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown feature(s) {sorted(unknown)}; choose from {', '.join(FEATURES)}")
    if not chosen:
        raise ValueError("the network needs at least one input feature")
    return tuple(name for name in FEATURES if name in chosen)  # always in FEATURES order


def _check_hidden(hidden) -> tuple[int, ...]:
    hidden = tuple(hidden)
    if len(hidden) > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS} hidden layers, got {len(hidden)}")
    return tuple(_check_int("units per layer", units, 1, MAX_UNITS) for units in hidden)


def _checked(settings: dict) -> dict:
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; use {', '.join(DEFAULTS)}")
    return {name: _CHECKS[name](value) for name, value in settings.items()}


_CHECKS = {
    "dataset": lambda v: _check_choice("dataset", v, DATASETS),
    "noise": lambda v: _check_number("noise", v, 0.0, 1.0),
    "train_fraction": lambda v: _check_number("train_fraction", v, 0.1, 0.9),
    "n_points": lambda v: _check_int("n_points", v, 20, 5000),
    "seed": lambda v: _check_int("seed", v, 0, 2**32 - 1),
    "features": _check_features,
    "hidden": _check_hidden,
    "activation": lambda v: _check_choice("activation", v, ACTIVATIONS),
    "lr": lambda v: _check_number("lr", v, 0.0, 10.0, low_open=True),
    "batch_size": lambda v: _check_int("batch_size", v, 1, 5000),
    "regularization": lambda v: _check_choice("regularization", v, REGULARIZATIONS),
    "regularization_rate": lambda v: _check_number("regularization_rate", v, 0.0, 10.0),
    "dropout": lambda v: _check_number("dropout", v, 0.0, 0.9),
    "optimizer": lambda v: _check_choice("optimizer", v, OPTIMIZERS),
}


# --------------------------------------------------------------------------- the model
class PlaygroundModel:
    """A small network on 2-D toy data with one method per playground control.

    Settings (``set(**settings)``, also keyword arguments here): ``dataset``, ``noise``,
    ``train_fraction``, ``n_points``, ``seed`` (a change regenerates the data and resets
    the network), ``features``, ``hidden`` (a fresh network of these widths),
    ``activation``, ``lr``, ``batch_size``, ``regularization`` ("none", "L1",
    "L2"), ``regularization_rate``, ``dropout``, ``optimizer`` (these keep the weights).
    Editing the network with ``add_layer``, ``remove_layer``, ``add_unit``,
    ``remove_unit`` or ``toggle_feature`` keeps every weight whose place still exists.
    """

    def __init__(self, **settings):
        self.settings = {**DEFAULTS, **_checked(settings)}
        self._grid_cache = None
        self._observers = []
        self._load_data()
        self.reset()

    def observe(self, callback) -> None:
        """Call ``callback(event)`` after each change: "epoch" (one trained), "run" (a
        ``run()`` ended) or "edit" (anything else). A view redraws itself this way when
        the model is driven from code."""
        self._observers.append(callback)

    def _notify(self, event: str) -> None:
        for callback in self._observers:
            callback(event)

    def __getattr__(self, name):  # model.lr, model.hidden, ... read the settings
        settings = self.__dict__.get("settings", {})
        if name in settings:
            return settings[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __setattr__(self, name, value):  # model.lr = 0.1 means set(lr=0.1)
        if name in DEFAULTS:
            self.set(**{name: value})
        else:
            super().__setattr__(name, value)

    @property
    def classification(self) -> bool:
        return self.dataset in CLASSIFICATION_DATA

    # ---- settings
    def set(self, **settings) -> None:
        """Change settings; data settings regenerate the data and reset the network."""
        checked = _checked(settings)
        old = dict(self.settings)
        self.settings.update(checked)
        if any(old[name] != self.settings[name] for name in _DATA_SETTINGS & set(checked)):
            self._load_data()
            return self.reset()
        if "hidden" in checked and checked["hidden"] != old["hidden"]:
            return self.reset()
        if "features" in checked and checked["features"] != old["features"]:
            self._change_features(old["features"])
        if "activation" in checked or "dropout" in checked:
            for dropout in self.dropouts:
                dropout.p = self.dropout
            self._assemble()
        elif {"optimizer", "regularization", "regularization_rate"} & set(checked):
            self._new_optimizer()
        if "lr" in checked:
            self.nn_optimizer.lr = self.lr
        self._notify("edit")

    def toggle_feature(self, name: str) -> None:
        """Use feature ``name`` as an input if it is not one, else stop using it."""
        _check_choice("feature", name, FEATURES)
        features = set(self.features) ^ {name}
        self.set(features=features)

    def _load_data(self) -> None:
        self.X_train, self.y_train, self.X_test, self.y_test = playground_data(
            self.dataset,
            n_points=self.n_points,
            noise=self.noise,
            train_fraction=self.train_fraction,
            seed=self.seed,
        )
        self.loss_fn = nn.SoftmaxCrossEntropy() if self.classification else nn.MSE()
        self._features_of_data = None

    def _inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """Training and test data as feature matrices, recomputed when the features change."""
        if self._features_of_data is None or self._features_of_data[0] != self.features:
            self._features_of_data = (
                self.features,
                feature_matrix(self.X_train, self.features),
                feature_matrix(self.X_test, self.features),
            )
        return self._features_of_data[1], self._features_of_data[2]

    # ---- building the network
    @property
    def _init(self) -> str:
        return "he" if self.activation == "relu" else "xavier"

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer, inputs first: e.g. [2, 4, 2, 2] for 2 features, hidden (4, 2)."""
        return [len(self.features), *self.hidden, 2 if self.classification else 1]

    def reset(self) -> None:
        """Fresh weights drawn from ``seed``, epoch 0: the start the exported code has."""
        self.rng = np.random.default_rng(self.seed)
        sizes = self.layer_sizes
        self.dense = [
            nn.Dense(n_in, n_out, rng=self.rng, init=self._init)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        self.dropouts = [nn.Dropout(self.dropout, rng=self.rng) for _ in self.hidden]
        self.epoch = 0
        self._assemble()
        self.history = [self._record()]
        self._notify("edit")

    def _assemble(self) -> None:
        """Chain the Dense layers with activations (and Dropout) into a Sequential."""
        layers, self._hidden_outputs = [], []
        activation = ACTIVATIONS[self.activation]
        for dense, dropout in zip(self.dense[:-1], self.dropouts, strict=True):
            layers.append(dense)
            if activation is not None:
                layers.append(activation())
            self._hidden_outputs.append(len(layers) - 1)  # where a hidden unit's value is final
            layers.append(dropout)
        layers.append(self.dense[-1])
        self.network = nn.Sequential(*layers)
        self._new_optimizer()

    def _new_optimizer(self) -> None:
        weight_decay = self.regularization_rate if self.regularization == "L2" else 0.0
        optimizer = {"SGD": nn.SGD, "Adam": nn.Adam}[self.optimizer]
        self.nn_optimizer = optimizer(
            self.network.parameters(),
            self.network.gradients(),
            lr=self.lr,
            weight_decay=weight_decay,
        )

    def _resized(self, old: nn.Dense, rows: list, columns: list) -> nn.Dense:
        """A Dense layer whose weight ``[i, j]`` is ``old``'s ``[rows[i], columns[j]]``;
        entries whose row or column is None (a new input or unit) are drawn fresh."""
        new = nn.Dense(len(rows), len(columns), rng=self.rng, init=self._init)
        kept_rows = [i for i, row in enumerate(rows) if row is not None]
        kept_columns = [j for j, column in enumerate(columns) if column is not None]
        old_rows = [rows[i] for i in kept_rows]
        old_columns = [columns[j] for j in kept_columns]
        new.params["W"][np.ix_(kept_rows, kept_columns)] = old.params["W"][
            np.ix_(old_rows, old_columns)
        ]
        new.params["b"][kept_columns] = old.params["b"][old_columns]
        return new

    def _edit(self, hidden: tuple[int, ...]) -> None:
        self.settings["hidden"] = hidden
        self._assemble()
        self._notify("edit")

    def _change_features(self, old_features: tuple[str, ...]) -> None:
        first = self.dense[0]
        rows = [old_features.index(f) if f in old_features else None for f in self.features]
        self.dense[0] = self._resized(first, rows, list(range(first.n_out)))
        self._assemble()

    def add_layer(self, units: int | None = None, index: int | None = None) -> None:
        """Insert a hidden layer at ``index`` (default: last, just before the output).

        Its width defaults to the width feeding it, so every other weight stays as it is.
        """
        if len(self.hidden) >= MAX_LAYERS:
            raise ValueError(f"the playground has at most {MAX_LAYERS} hidden layers")
        index = (
            len(self.hidden) if index is None else _check_int("index", index, 0, len(self.hidden))
        )
        width_in = self.dense[index].n_in
        units = (
            min(width_in, MAX_UNITS) if units is None else _check_int("units", units, 1, MAX_UNITS)
        )
        following = self.dense[index]
        rows = [k if k < width_in else None for k in range(units)]
        self.dense[index : index + 1] = [
            nn.Dense(width_in, units, rng=self.rng, init=self._init),
            self._resized(following, rows, list(range(following.n_out))),
        ]
        self.dropouts.insert(index, nn.Dropout(self.dropout, rng=self.rng))
        self._edit((*self.hidden[:index], units, *self.hidden[index:]))

    def remove_layer(self, index: int = -1) -> None:
        """Remove hidden layer ``index`` (default: the last); the layer after it keeps its
        weights for as many inputs as it still has."""
        if not self.hidden:
            raise ValueError("there is no hidden layer to remove")
        index = _check_int("index", index, -len(self.hidden), len(self.hidden) - 1) % len(
            self.hidden
        )
        width_in = self.dense[index].n_in
        following = self.dense[index + 1]
        rows = [k if k < following.n_in else None for k in range(width_in)]
        self.dense[index : index + 2] = [
            self._resized(following, rows, list(range(following.n_out)))
        ]
        del self.dropouts[index]
        self._edit(self.hidden[:index] + self.hidden[index + 1 :])

    def add_unit(self, layer: int) -> None:
        """One more unit in hidden layer ``layer``, with fresh weights in and out."""
        layer = self._check_layer(layer)
        units = self.hidden[layer]
        if units >= MAX_UNITS:
            raise ValueError(f"a layer has at most {MAX_UNITS} units")
        incoming, outgoing = self.dense[layer], self.dense[layer + 1]
        self.dense[layer] = self._resized(
            incoming, list(range(incoming.n_in)), [*range(units), None]
        )
        self.dense[layer + 1] = self._resized(
            outgoing, [*range(units), None], list(range(outgoing.n_out))
        )
        self._edit(self.hidden[:layer] + (units + 1,) + self.hidden[layer + 1 :])

    def remove_unit(self, layer: int, unit: int = -1) -> None:
        """Remove unit ``unit`` (default: the last) of hidden layer ``layer``."""
        layer = self._check_layer(layer)
        units = self.hidden[layer]
        if units <= 1:
            raise ValueError("a hidden layer needs at least one unit: remove the layer instead")
        unit = _check_int("unit", unit, -units, units - 1) % units
        kept = [k for k in range(units) if k != unit]
        incoming, outgoing = self.dense[layer], self.dense[layer + 1]
        self.dense[layer] = self._resized(incoming, list(range(incoming.n_in)), kept)
        self.dense[layer + 1] = self._resized(outgoing, kept, list(range(outgoing.n_out)))
        self._edit(self.hidden[:layer] + (units - 1,) + self.hidden[layer + 1 :])

    def _check_layer(self, layer: int) -> int:
        if not self.hidden:
            raise ValueError("the network has no hidden layer")
        return _check_int("layer", layer, -len(self.hidden), len(self.hidden) - 1) % len(
            self.hidden
        )

    # ---- training
    def step(self) -> dict:
        """Train one epoch (every training point once, in mini-batches); return its record."""
        F_train, _ = self._inputs()
        l1 = self.regularization_rate if self.regularization == "L1" else 0.0
        parameters, gradients = self.network.parameters(), self.network.gradients()
        self.network.train()
        for x_batch, y_batch in nn.iterate_minibatches(
            F_train, self.y_train, self.batch_size, rng=self.rng
        ):
            self.loss_fn.forward(self.network.forward(x_batch), y_batch)
            self.network.backward(self.loss_fn.backward(), input_grad=False)
            if l1:
                nn.add_l1_gradient(parameters, gradients, l1)
            self.nn_optimizer.step()
        self.epoch += 1
        record = self._record()
        self.history.append(record)
        self._notify("epoch")
        return record

    def run(self, epochs: int = 1) -> dict:
        """Train ``epochs`` epochs; return the last epoch's record."""
        epochs = _check_int("epochs", epochs, 1, 10**6)
        for _ in range(epochs):
            record = self.step()
        self._notify("run")
        return record

    def _record(self) -> dict:
        """Losses (and accuracies) on the training and test data, in evaluation mode."""
        F_train, F_test = self._inputs()
        train_loss, train_accuracy = nn.evaluate(self.network, self.loss_fn, F_train, self.y_train)
        test_loss, test_accuracy = nn.evaluate(self.network, self.loss_fn, F_test, self.y_test)
        return {
            "epoch": self.epoch,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy,
        }

    def evaluate(self) -> dict:
        """The current losses and accuracies (also right after an edit of the network)."""
        return self._record()

    @property
    def train_loss(self) -> float:
        return self.evaluate()["train_loss"]

    @property
    def test_loss(self) -> float:
        return self.evaluate()["test_loss"]

    @property
    def test_accuracy(self) -> float | None:
        return self.evaluate()["test_accuracy"]

    # ---- what the view draws
    def weights(self) -> list[np.ndarray]:
        """Each layer's weight matrix (n_in, n_out), inputs first: the diagram's edges.

        A classifier's two output logits act as one unit, since P(class 1) =
        sigmoid(z1 - z0): its incoming weights are shown as ``W[:, 1] - W[:, 0]``.
        """
        weights = [dense.params["W"] for dense in self.dense]
        if self.classification:
            last = weights[-1]
            weights[-1] = (last[:, 1] - last[:, 0])[:, None]
        return weights

    def predict(self, X) -> np.ndarray:
        """For points ``X`` (columns x1, x2): P(class 1) for classification, else the output."""
        outputs = self.network.predict_logits(feature_matrix(X, self.features))
        return nn.softmax(outputs)[:, 1] if self.classification else outputs[:, 0]

    def maps(self, resolution: int = 48) -> dict[str, np.ndarray]:
        """Each feature's, hidden unit's and the output's value over a ``resolution``² grid
        covering the view: ``{"features": (k, r, r), "hidden": [(units, r, r), ...],
        "output": (r, r)}``; row 0 is the bottom of the view (y = -VIEW_LIMIT)."""
        if self._grid_cache is None or self._grid_cache[0] != resolution:
            axis = np.linspace(-VIEW_LIMIT, VIEW_LIMIT, resolution)
            grid_x, grid_y = np.meshgrid(axis, axis)
            self._grid_cache = (resolution, np.c_[grid_x.ravel(), grid_y.ravel()], {})
        _, grid, features_cache = self._grid_cache
        if self.features not in features_cache:
            features_cache.clear()
            features_cache[self.features] = feature_matrix(grid, self.features)
        values = features_cache[self.features]
        shape = (resolution, resolution)
        result = {"features": values.T.reshape(-1, *shape), "hidden": []}
        self.network.eval()
        try:
            for position, layer in enumerate(self.network.layers):
                values = layer.forward(values)
                if position in self._hidden_outputs:
                    result["hidden"].append(values.T.reshape(-1, *shape).copy())
        finally:
            self.network.train()
        output = nn.softmax(values)[:, 1] if self.classification else values[:, 0].copy()
        result["output"] = output.reshape(shape)
        return result

    # ---- show me the code
    def config(self, epochs: int | None = None) -> dict:
        """The settings, feature formulas and epoch count the exported code needs."""
        return {
            **self.settings,
            "feature_expressions": [FEATURES[name] for name in self.features],
            "classification": self.classification,
            "init": self._init,
            "epochs": _check_int("epochs", epochs or self.epoch or 100, 1, 10**6),
        }

    def to_numpy_code(self, epochs: int | None = None) -> str:
        """This configuration as a runnable script using ``widgets.numpy_nn``, training from
        scratch for ``epochs`` (default: the epochs trained so far, or 100 before any)."""
        return numpy_code(self.config(epochs))

    def to_torch_code(self, epochs: int | None = None) -> str:
        """The same network and training as a runnable PyTorch script."""
        return torch_code(self.config(epochs))

    def __repr__(self) -> str:
        return (
            f"PlaygroundModel(dataset={self.dataset!r}, features={self.features}, "
            f"hidden={self.hidden}, activation={self.activation!r}, epoch={self.epoch})"
        )
