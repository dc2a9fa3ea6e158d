"""The network playground's data: toy data sets scaled to its view, and the input features.

``playground_data`` is what both the playground and the code it exports ("show me the
code") call, so a printed script trains on exactly the points the playground shows.
"""

from __future__ import annotations

import numpy as np

from widgets.toy_data import (
    REGRESSION_FUNCTIONS,
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spirals,
    make_xor,
)

VIEW_LIMIT = 3.0  # the plane shown and sampled for the pictures is [-3, 3]²
_HALF_WIDTH = 2.5  # clean data fills about [-2.5, 2.5]²: noise has room inside the view

# name: (generator(n, noise, seed) in the generator's own units, centre, scale to the view).
# `noise` runs from 0 (clean) to 1 (classes heavily overlapped) for every data set.
CLASSIFICATION_DATA = {
    "circle": (lambda n, noise, seed: make_circles(n, noise=0.2 * noise, seed=seed), (0, 0), 1),
    "xor": (lambda n, noise, seed: make_xor(n, noise=0.3 * noise, seed=seed), (0, 0), 1),
    # margin=-inf: no point is drawn again, so noisy blobs overlap as Gaussians do.
    "gaussians": (
        lambda n, noise, seed: make_blobs(
            n, separation=2.0, spread=0.35 + 0.65 * noise, margin=-np.inf, seed=seed
        ),
        (0, 0),
        0.5,
    ),
    "spiral": (
        lambda n, noise, seed: make_spirals(n, classes=2, noise=0.6 * noise, seed=seed),
        (0, 0),
        1,
    ),
    "moons": (
        lambda n, noise, seed: make_moons(n, noise=0.3 * noise, seed=seed),
        (0.5, 0.25),
        2 / 3,
    ),
}
REGRESSION_DATA = tuple(REGRESSION_FUNCTIONS)  # sine (1-D), plane, bumps (2-D)
DATASETS = (*CLASSIFICATION_DATA, *REGRESSION_DATA)

# name: the NumPy expression in x1 and x2 that computes it. The one home of each feature's
# formula: the model evaluates these strings and "show me the code" prints them.
FEATURES = {
    "x1": "x1",
    "x2": "x2",
    "x1^2": "x1**2",
    "x2^2": "x2**2",
    "x1*x2": "x1 * x2",
    "sin(x1)": "np.sin(x1)",
    "sin(x2)": "np.sin(x2)",
}
_COMPILED_FEATURES = {
    name: compile(expression, f"<feature {name}>", "eval") for name, expression in FEATURES.items()
}


# --------------------------------------------------------------------------- data
def playground_data(
    dataset: str = "circle",
    *,
    n_points: int = 500,
    noise: float = 0.0,
    train_fraction: float = 0.5,
    seed: int = 0,
):
    """``(X_train, y_train, X_test, y_test)``: ``n_points`` points of a toy data set, scaled
    to the playground's view, shuffled and split.

    X has two columns (x1, x2). Classification sets give integer labels 0/1 (what
    ``SoftmaxCrossEntropy`` and ``torch.nn.CrossEntropyLoss`` take); regression sets give
    float32 targets of shape (n, 1) (what ``MSE`` and ``torch.nn.MSELoss`` take).
    """
    if dataset in CLASSIFICATION_DATA:
        generate, centre, scale = CLASSIFICATION_DATA[dataset]
        X, y = generate(n_points, noise, seed)
    elif dataset in REGRESSION_DATA:
        X, y = make_regression(dataset, n_points, noise=0.3 * noise, seed=seed)
        centre, scale = (0, 0), 1
        y = y.astype(np.float32).reshape(-1, 1)
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    X = (X - np.asarray(centre, dtype=float)) * (scale * _HALF_WIDTH)
    order = np.random.default_rng(seed).permutation(len(X))
    n_train = int(round(train_fraction * len(X)))
    train, test = order[:n_train], order[n_train:]
    return X[train], y[train], X[test], y[test]


def feature_matrix(X, features) -> np.ndarray:
    """The chosen features of points ``X`` (columns x1, x2) as a float32 (n, k) array."""
    X = np.asarray(X, dtype=float)
    variables = {"x1": X[:, 0], "x2": X[:, 1]}
    columns = [eval(_COMPILED_FEATURES[name], {"np": np}, variables) for name in features]
    return np.column_stack(columns).astype(np.float32)
