"""The network playground: model vs plain numpy_nn, edits, code export, and the view."""

import base64
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from PIL import Image

from widgets import numpy_nn as nn
from widgets.playground import NetworkPlayground
from widgets.playground_data import DATASETS, FEATURES, feature_matrix, playground_data
from widgets.playground_model import PlaygroundModel


def weights_of(model: PlaygroundModel) -> list[np.ndarray]:
    return [array.copy() for array in model.network.parameters()]


def run_code(code: str) -> dict:
    namespace = {"__name__": "__snippet__"}
    exec(compile(code, "<exported>", "exec"), namespace)
    return namespace


# --------------------------------------------------------------------------- data
@pytest.mark.parametrize("dataset", DATASETS)
def test_data_is_seeded_split_and_inside_the_view(dataset):
    X_train, y_train, X_test, y_test = playground_data(dataset, n_points=200, seed=3)
    again = playground_data(dataset, n_points=200, seed=3)
    other = playground_data(dataset, n_points=200, seed=4)
    assert len(X_train) == len(X_test) == 100
    np.testing.assert_array_equal(X_train, again[0])
    assert not np.array_equal(X_train, other[0])
    assert np.abs(np.r_[X_train, X_test]).max() < 3.0  # clean data fits the view
    if y_train.dtype.kind == "i":
        assert set(np.unique(np.r_[y_train, y_test])) == {0, 1}
    else:
        assert y_train.shape == (100, 1) and y_train.dtype == np.float32


def test_noise_and_train_fraction_change_the_data():
    clean = playground_data("circle", noise=0.0)
    noisy = playground_data("circle", noise=1.0)
    radius = [np.hypot(*X.T) for X in (clean[0], noisy[0])]
    outer = [r[y == 0] for r, y in zip(radius, (clean[1], noisy[1]), strict=True)]
    assert outer[0].std() < 1e-9 < 0.3 < outer[1].std()
    assert len(playground_data("circle", train_fraction=0.2)[0]) == 100


def test_feature_formulas():
    X = np.array([[0.5, -2.0]])
    values = feature_matrix(X, tuple(FEATURES))
    expected = [0.5, -2.0, 0.25, 4.0, -1.0, np.sin(0.5), np.sin(-2.0)]
    np.testing.assert_allclose(values[0], expected, rtol=1e-6)
    assert values.dtype == np.float32


# --------------------------------------------------------------------------- training
def test_training_matches_a_plain_numpy_nn_loop_with_the_same_seed():
    model = PlaygroundModel(
        dataset="spiral",
        hidden=(5, 3),
        activation="relu",
        seed=7,
        lr=0.1,
        batch_size=16,
        regularization="L2",
        regularization_rate=0.01,
    )
    model.run(epochs=5)

    X_train, y_train, X_test, y_test = playground_data("spiral", seed=7)
    features = feature_matrix(X_train, ("x1", "x2"))
    rng = np.random.default_rng(7)
    plain = nn.Sequential(
        nn.Dense(2, 5, rng=rng, init="he"),
        nn.ReLU(),
        nn.Dropout(0.0, rng=rng),
        nn.Dense(5, 3, rng=rng, init="he"),
        nn.ReLU(),
        nn.Dropout(0.0, rng=rng),
        nn.Dense(3, 2, rng=rng, init="he"),
    )
    optimizer = nn.SGD(plain.parameters(), plain.gradients(), lr=0.1, weight_decay=0.01)
    loss_fn = nn.SoftmaxCrossEntropy()
    for _ in range(5):
        nn.train_epoch(plain, loss_fn, optimizer, features, y_train, batch_size=16, rng=rng)
    for ours, theirs in zip(model.network.parameters(), plain.parameters(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    test_loss, _ = nn.evaluate(plain, loss_fn, feature_matrix(X_test, ("x1", "x2")), y_test)
    assert model.history[-1]["test_loss"] == test_loss
    assert [record["epoch"] for record in model.history] == list(range(6))


def test_one_unit_on_squared_features_separates_the_circle_and_a_linear_one_cannot():
    squared = PlaygroundModel(features=("x1^2", "x2^2"), hidden=(), lr=0.1)
    linear = PlaygroundModel(features=("x1", "x2"), hidden=(), lr=0.1)
    squared.run(epochs=30)
    linear.run(epochs=30)
    assert squared.test_accuracy >= 0.98
    assert linear.test_accuracy <= 0.7


def test_regression_learns_the_sine():
    model = PlaygroundModel(
        dataset="sine", features=("x1", "sin(x1)"), hidden=(4,), lr=0.03
    )
    start = model.test_loss
    model.run(epochs=30)
    assert model.history[-1]["test_accuracy"] is None
    assert model.test_loss < 0.05 < start
    prediction = model.predict(np.array([[np.pi / 2, 0.0], [-np.pi / 2, 0.0]]))
    assert prediction.shape == (2,)


# --------------------------------------------------------------------------- edits keep weights
def test_add_and_remove_layer_keep_every_other_weight():
    model = PlaygroundModel(hidden=(4, 3))
    model.run(epochs=2)
    before = weights_of(model)
    model.add_layer()  # width 3, before the output: every old array keeps its shape and values
    assert model.hidden == (4, 3, 3) and model.layer_sizes == [2, 4, 3, 3, 2]
    after = weights_of(model)
    assert all(np.array_equal(a, b) for a, b in zip(before[:4], after[:4], strict=True))
    assert np.array_equal(before[4], after[6]) and np.array_equal(before[5], after[7])
    model.remove_layer()
    assert all(np.array_equal(a, b) for a, b in zip(before, weights_of(model), strict=True))

    model.add_layer(units=6, index=0)  # the layer after it gets 6 inputs, keeping 2 of its rows
    assert model.hidden == (6, 4, 3)
    second = model.dense[1].params["W"]
    np.testing.assert_array_equal(second[:2], before[0])
    model.run(epochs=1)  # still trains
    assert model.epoch == 3


def test_units_and_features_keep_the_other_weights():
    model = PlaygroundModel(hidden=(4,))
    W_in, W_out = model.dense[0].params["W"].copy(), model.dense[1].params["W"].copy()
    model.add_unit(0)
    assert model.hidden == (5,)
    np.testing.assert_array_equal(model.dense[0].params["W"][:, :4], W_in)
    np.testing.assert_array_equal(model.dense[1].params["W"][:4], W_out)
    model.remove_unit(0, unit=1)  # units 0, 2, 3 and the new one remain, in that order
    assert model.hidden == (4,)
    np.testing.assert_array_equal(model.dense[0].params["W"][:, :3], np.delete(W_in, 1, axis=1))
    np.testing.assert_array_equal(model.dense[1].params["W"][:3], np.delete(W_out, 1, axis=0))

    rows = model.dense[0].params["W"].copy()
    model.toggle_feature("x1^2")
    assert model.features == ("x1", "x2", "x1^2")
    np.testing.assert_array_equal(model.dense[0].params["W"][:2], rows)
    new_row = model.dense[0].params["W"][2].copy()
    model.toggle_feature("x2")
    assert model.features == ("x1", "x1^2")
    np.testing.assert_array_equal(model.dense[0].params["W"], np.stack([rows[0], new_row]))


# --------------------------------------------------------------------------- controls
def test_every_setting_reaches_the_network():
    model = PlaygroundModel(hidden=(3,))
    model.set(lr=0.3, batch_size=25)
    assert model.nn_optimizer.lr == 0.3 and model.batch_size == 25
    model.set(regularization="L2", regularization_rate=0.01)
    assert model.nn_optimizer.weight_decay == 0.01
    model.set(optimizer="Adam")
    assert isinstance(model.nn_optimizer, nn.Adam) and model.nn_optimizer.weight_decay == 0.01
    model.set(regularization="L1")
    assert model.nn_optimizer.weight_decay == 0.0
    before = weights_of(model)
    model.set(activation="sigmoid", dropout=0.2)  # keeps the weights
    kinds = [type(layer).__name__ for layer in model.network.layers]
    assert kinds == ["Dense", "Sigmoid", "Dropout", "Dense"]
    assert model.network.layers[2].p == 0.2
    assert all(np.array_equal(a, b) for a, b in zip(before, weights_of(model), strict=True))
    model.set(activation="linear")
    assert [type(layer).__name__ for layer in model.network.layers] == ["Dense", "Dropout", "Dense"]
    model.lr = 0.05  # attribute assignment is set(), for live coding
    assert model.nn_optimizer.lr == 0.05

    model.run(epochs=3)
    assert model.epoch == 3
    model.set(noise=0.5)  # data settings: new data, fresh start
    assert model.epoch == 0 and len(model.history) == 1
    model.set(dataset="bumps")
    assert not model.classification and model.layer_sizes[-1] == 1
    model.set(hidden=(2, 2, 2))
    assert model.layer_sizes == [2, 2, 2, 2, 1]
    start = weights_of(model)
    model.run(epochs=2)
    model.reset()
    assert model.epoch == 0
    assert all(np.array_equal(a, b) for a, b in zip(start, weights_of(model), strict=True))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda m: m.set(lr=0), "lr"),
        (lambda m: m.set(hidden=(9,)), "units per layer"),
        (lambda m: m.set(hidden=(1,) * 7), "at most 6 hidden layers"),
        (lambda m: m.set(features=()), "at least one input feature"),
        (lambda m: m.set(dataset="swirl"), "unknown dataset"),
        (lambda m: m.set(colour="red"), "unknown setting"),
        (lambda m: m.toggle_feature("x3"), "unknown feature"),
        (lambda m: m.remove_unit(0, 0) or m.remove_unit(0, 0), "at least one unit"),
        (lambda m: [m.add_layer() for _ in range(6)], "at most 6 hidden layers"),
        (lambda m: m.remove_layer() or m.remove_layer() or m.remove_layer(), "no hidden layer"),
    ],
)
def test_refusals_say_what_is_allowed(action, message):
    model = PlaygroundModel(hidden=(2, 2))
    with pytest.raises(ValueError, match=message):
        action(model)


# --------------------------------------------------------------------------- show me the code
@pytest.fixture
def one_torch_thread():
    """Tiny networks: threads only wait for each other (many times slower on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    "settings",
    [
        dict(
            dataset="moons",
            noise=0.3,
            features=("x1", "x2", "sin(x1)"),
            hidden=(5, 4),
            activation="relu",
            lr=0.05,
            batch_size=8,
            regularization="L1",
            regularization_rate=0.003,
            dropout=0.1,
            seed=2,
        ),
        dict(
            dataset="bumps",
            features=("x1", "x2", "x1*x2"),
            hidden=(3,),
            activation="sigmoid",
            optimizer="Adam",
            regularization="L2",
            regularization_rate=0.01,
            seed=5,
        ),
    ],
)
def test_numpy_code_reproduces_the_model_exactly(settings):
    model = PlaygroundModel(**settings)
    model.run(epochs=4)
    code = model.to_numpy_code()
    snippet = run_code(code)
    for ours, theirs in zip(model.network.parameters(), snippet["model"].parameters(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert snippet["test_loss"] == model.history[-1]["test_loss"]
    assert "range(4)" in code
    assert ("nn.add_l1_gradient" in code) == (settings["regularization"] == "L1")


@pytest.mark.parametrize(
    "settings",
    [
        dict(
            features=("x1", "x2", "x1^2", "x2^2"),
            hidden=(4,),
            optimizer="Adam",
            lr=0.03,
            batch_size=25,
            regularization="L2",
        ),
        dict(
            dataset="sine",
            features=("x1", "sin(x1)"),
            hidden=(4,),
            activation="relu",
            batch_size=25,
            lr=0.03,
            regularization="L1",
            dropout=0.05,
        ),
    ],
)
def test_numpy_and_torch_code_train_to_a_similar_loss(settings, one_torch_thread):
    model = PlaygroundModel(**settings)
    numpy_result = run_code(model.to_numpy_code(epochs=60))
    torch.manual_seed(0)
    torch_result = run_code(model.to_torch_code(epochs=60))
    start = model.test_loss
    for result in (numpy_result, torch_result):
        assert result["test_loss"] < 0.3 * start
    assert abs(numpy_result["test_loss"] - torch_result["test_loss"]) < 0.1 * start


# --------------------------------------------------------------------------- the view
def picture_pixels(playground) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(playground.png)).convert("RGB"), dtype=np.int16)


def test_view_buttons_call_the_model_and_change_the_picture():
    playground = NetworkPlayground(hidden=(3,))
    first = picture_pixels(playground)
    playground.step_button.click()
    assert playground.model.epoch == 1 and "epoch 1" in playground.status.value
    playground.add_layer_button.click()
    assert playground.model.hidden == (3, 3)
    assert len(playground.units_box.children) == 2
    playground.units_box.children[0].children[2].click()  # "+" under layer 1
    assert playground.model.hidden == (4, 3)
    playground.feature_toggles["x1*x2"].value = True
    assert playground.model.features == ("x1", "x2", "x1*x2")
    playground.lr.value = 0.1
    assert playground.model.nn_optimizer.lr == 0.1
    playground.dataset.value = "xor"
    assert playground.model.dataset == "xor" and playground.model.epoch == 0
    assert np.abs(picture_pixels(playground) - first).mean() > 1
    for _ in range(6):
        playground.add_layer_button.click()
    assert "at most 6" in playground.message.value  # a refusal is shown, not raised
    playground.reset_button.click()
    assert playground.model.epoch == 0


def test_controls_and_picture_follow_the_model_driven_from_code():
    playground = NetworkPlayground()
    before = playground.png
    playground.model.run(epochs=3)  # an instructor's cell: the picture follows by itself
    assert playground.png != before and "epoch 3" in playground.status.value
    playground.model.set(activation="relu", lr=0.2, features=("x1", "sin(x2)"))
    assert playground.activation.value == "relu" and playground.lr.value == 0.2
    assert [name for name, t in playground.feature_toggles.items() if t.value] == ["x1", "sin(x2)"]
    assert playground.model.features == ("x1", "sin(x2)")  # syncing did not toggle them back
    playground.model.set(batch_size=100, lr=0.07)  # beyond the controls' choices
    assert playground.batch_size.value == 100 and playground.lr.value == 0.07
    playground.dataset.value = "sine"
    assert not playground.model.classification and "test accuracy" not in playground.status.value


def test_play_ticks_train_and_a_static_page_gets_a_png():
    playground = NetworkPlayground()
    before = playground.png
    for tick in range(1, 4):
        playground._last_tick_end = 0.0  # as if the ticks came one interval apart
        playground.play.value = tick
    assert playground.model.epoch >= 3
    playground.play.value = 0  # the stop button rewinds: no training
    epochs = playground.model.epoch
    assert playground.model.epoch == epochs
    bundle = playground._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == playground.png != before
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "NetworkPlayground" in bundle["text/plain"]


def test_show_me_the_code_prints_both_scripts(capsys):
    playground = NetworkPlayground()
    playground.code_button.click()
    # In a kernel the Output widget captures the text; here it reaches stdout.
    captured = "".join(output.get("text", "") for output in playground.code_output.outputs)
    printed = captured + capsys.readouterr().out
    assert "nn.Sequential(" in printed and "torch.optim.SGD(" in printed
