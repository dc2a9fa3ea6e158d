"""The perceptron: its learning rule, the model's bookkeeping, and the playground's controls."""

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from widgets.perceptron import Perceptron, perceptron_update
from widgets.perceptron_plot import PerceptronPlot
from widgets.perceptron_widget import PerceptronPlayground
from widgets.toy_data import make_blobs, make_gate, make_moons


def reference_training(X, y, lr, epochs):
    """Rosenblatt's rule in plain Python floats, written independently of the package."""
    w1 = w2 = b = 0.0
    for _ in range(epochs):
        for (x1, x2), target in zip(X.tolist(), y.tolist(), strict=True):
            prediction = 1 if w1 * x1 + w2 * x2 + b >= 0 else 0
            w1 += lr * (target - prediction) * x1
            w2 += lr * (target - prediction) * x2
            b += lr * (target - prediction)
    return w1, w2, b


# --------------------------------------------------------------------------- the rule
def test_update_leaves_a_correct_prediction_alone():
    weights, bias = perceptron_update([1.0, 1.0], -1.5, [1.0, 1.0], 1, 0.5)
    assert weights.tolist() == [1.0, 1.0] and bias == -1.5


def test_update_moves_by_lr_times_error_times_x():
    # z = 2·3 − 1·1 + 0.5 = 5.5 >= 0, so ŷ = 1; target 0: error −1.
    weights, bias = perceptron_update([2.0, -1.0], 0.5, [3.0, 1.0], 0, 0.25)
    assert weights.tolist() == [2.0 - 0.75, -1.0 - 0.25]
    assert bias == 0.25
    # z = −3 < 0, ŷ = 0; target 1: error +1.
    weights, bias = perceptron_update([-1.0, 0.0], 0.0, [3.0, 2.0], 1, 2.0)
    assert weights.tolist() == [5.0, 4.0] and bias == 2.0


def test_update_predicts_one_at_exactly_zero_like_widgets_activations_step():
    weights, bias = perceptron_update([0.0, 0.0], 0.0, [1.0, 1.0], 0, 1.0)
    assert weights.tolist() == [-1.0, -1.0] and bias == -1.0


def test_update_does_not_modify_its_inputs():
    weights, x = np.array([0.5, 0.5]), np.array([1.0, 2.0])
    perceptron_update(weights, 0.0, x, 0, 1.0)
    assert weights.tolist() == [0.5, 0.5] and x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("weights", "x", "target", "message"),
    [
        ([1.0, 1.0], [1.0, 1.0, 1.0], 1, "same length"),
        ([1.0, 1.0], [1.0, 1.0], -1, "target must be 0 or 1"),
        ([1.0, 1.0], [1.0, 1.0], 0.5, "target must be 0 or 1"),
    ],
)
def test_update_rejects_bad_input_clearly(weights, x, target, message):
    with pytest.raises(ValueError, match=message):
        perceptron_update(weights, 0.0, x, target, 1.0)


# --------------------------------------------------------------------------- the model
@pytest.mark.parametrize(("gate", "epochs"), [("AND", 5), ("OR", 3), ("NAND", 5)])
def test_linearly_separable_gates_converge_within_the_stated_epochs(gate, epochs):
    X, y = make_gate(gate)
    model = Perceptron(X, y)
    status = model.train()
    assert status.state == "converged"
    assert status.epochs <= epochs
    assert status.errors == 0 and model.predict().tolist() == y.tolist()
    assert model.parameters() == reference_training(X, y, 1.0, status.epochs)


def test_model_matches_an_independent_implementation_on_blobs():
    X, y = make_blobs(60, seed=3)
    model = Perceptron(X, y, lr=0.3)
    for _ in range(4):
        model.epoch()
    np.testing.assert_allclose(model.parameters(), reference_training(X, y, 0.3, 4), atol=1e-12)


def test_blobs_converge_within_novikoffs_mistake_bound():
    X, y = make_blobs(100, seed=0)  # separable by x1 + x2 = 0 with margin >= 0.25
    model = Perceptron(X, y)
    assert model.train().state == "converged"
    augmented = np.c_[X, np.ones(len(X))]
    radius = np.linalg.norm(augmented, axis=1).max()
    assert sum(model.mistakes_per_epoch) <= (radius / 0.25) ** 2


def test_step_changes_the_weights_by_exactly_eta_times_error_times_x():
    X, y = make_blobs(30, separation=1.5, seed=1)
    model = Perceptron(X, y, lr=0.3, weights=(0.4, -2.0), bias=0.7)
    saw_a_mistake = False
    for expected_index in list(range(30)) * 2:
        old_weights, old_bias = model.weights.copy(), model.bias
        record = model.step()
        x, target = X[expected_index], y[expected_index]
        z = x @ old_weights + old_bias
        prediction = int(z >= 0)
        assert record.index == expected_index and record.target == target
        assert record.z == pytest.approx(z) and record.prediction == prediction
        np.testing.assert_array_equal(model.weights, old_weights + 0.3 * (target - prediction) * x)
        assert model.bias == old_bias + 0.3 * (target - prediction)
        np.testing.assert_allclose(record.delta_weights, 0.3 * (target - prediction) * x)
        saw_a_mistake |= record.mistake
    assert saw_a_mistake  # otherwise this test proved nothing about updates


def test_epoch_finishes_the_current_pass():
    model = Perceptron(*make_gate("XOR"))
    model.step()
    records = model.epoch()
    assert [r.index for r in records] == [1, 2, 3]
    assert model.position == 0 and model.epochs == 1
    assert [r.index for r in model.epoch()] == [0, 1, 2, 3]


def test_xor_never_converges_and_its_weights_cycle():
    model = Perceptron(*make_gate("XOR"))
    status = model.train()
    assert status.state == "cycling"
    assert status.cycle == (3, 2)
    assert model.epoch_start_weights[3] == model.epoch_start_weights[2] == (-1.0, 0.0, 0.0)
    assert "cannot" in status.message and "lesson 2" in status.message
    errors_seen = [model.errors()]
    for _ in range(30):  # the detection is a proof, but check it against brute force too
        model.epoch()
        errors_seen.append(model.errors())
    assert min(errors_seen) > 0
    assert model.status.state == "cycling"


def test_non_separable_moons_hit_the_epoch_cap():
    model = Perceptron(*make_moons(60, seed=0), max_epochs=20)
    status = model.train()
    assert status.state == "epoch cap" and status.epochs == 20 and status.errors > 0
    assert "not linearly separable" in status.message


def test_reset_returns_to_where_the_run_started_and_set_weights_starts_a_run():
    model = Perceptron(*make_gate("AND"), weights=(0.5, -0.5), bias=0.25)
    model.epoch()
    assert model.parameters() != (0.5, -0.5, 0.25)
    model.reset()
    assert model.parameters() == (0.5, -0.5, 0.25)
    assert (model.steps, model.epochs, model.position, model.last_step) == (0, 0, 0, None)
    model.set_weights(1, 1, -1.5)
    model.step()
    model.reset()
    assert model.parameters() == (1.0, 1.0, -1.5)
    assert model.status.state == "converged"
    assert "already separate" in model.status.message


def test_predict_output_and_decision_function_agree():
    model = Perceptron(*make_gate("AND"), weights=(1, 1), bias=-1.5, activation="sigmoid")
    assert model.decision_function().tolist() == [-1.5, -0.5, -0.5, 0.5]
    assert model.predict().tolist() == [0, 0, 0, 1]
    np.testing.assert_allclose(model.output(), 1 / (1 + np.exp([1.5, 0.5, 0.5, -0.5])))


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        ([[0, np.nan], [1, 1]], [0, 1], r"NaN or infinite values in rows \[0\]"),
        ([[0, 0], [np.inf, 1]], [0, 1], r"rows \[1\]"),
        ([[0, 0], [1e12, 1]], [0, 1], "as large as 1e\\+12.*Rescale"),
        ([[0, 0, 0], [1, 1, 1]], [0, 1], r"shape \(n_samples, 2\)"),
        ([[0, 0], [1, 1]], [0], "one label per row"),
        ([[0, 0], [1, 1]], [-1, 1], r"\(y \+ 1\) // 2"),
        ([[0, 0], [1, 1]], [0, 2], "classes 0 and 1"),
        ([["a", "b"]], [0], "numeric"),
    ],
)
def test_bad_data_gets_a_clear_message(X, y, message):
    with pytest.raises(ValueError, match=message):
        Perceptron(X, y)


def test_bad_settings_get_a_clear_message():
    model = Perceptron(*make_gate("OR"))
    with pytest.raises(ValueError, match="w1 must be a finite number"):
        model.set_weights(np.nan, 0, 0)
    with pytest.raises(ValueError, match="b must be a finite number"):
        model.set_weights(0, 0, 1e300)
    with pytest.raises(ValueError, match="lr must be positive"):
        model.lr = 0
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        model.activation = "softmax"
    assert model.parameters() == (0.0, 0.0, 0.0)  # a refused setting changes nothing


# --------------------------------------------------------------------------- the plot
def test_plot_draws_the_boundary_where_w_dot_x_plus_b_is_zero():
    figure = Figure()
    plot = PerceptronPlot(figure.subplots())
    model = Perceptron(*make_gate("AND"), weights=(1, 2), bias=-1.5)
    plot.update(model)
    xs, ys = plot.boundary_line.get_data()
    np.testing.assert_allclose(np.c_[xs, ys] @ model.weights + model.bias, 0, atol=1e-12)
    model.set_weights(0, 0, 1)  # no boundary at all: every point is class 1
    plot.update(model)
    assert len(plot.boundary_line.get_data()[0]) == 0


# --------------------------------------------------------------------------- the playground
def png_pixels(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=int)


@pytest.fixture
def playground():
    return PerceptronPlayground("AND")


def test_weight_sliders_set_the_model_and_redraw(playground):
    before_png, before_status = playground.png, playground.status.value
    playground.w1_slider.value = 1.0
    playground.w2_slider.value = 1.0
    playground.b_slider.value = -1.5
    assert playground.model.parameters() == (1.0, 1.0, -1.5)
    assert playground.image.value == playground.png != before_png
    assert playground.status.value != before_status
    assert "converged" in playground.status.value and "errors 0 of 4" in playground.status.value


def test_blitted_redraw_matches_a_full_redraw(playground):
    playground.w1_slider.value = 1.3
    playground.step_button.click()
    blitted = png_pixels(playground.png)
    full = png_pixels(playground._render(full=True))
    assert np.abs(blitted - full).max() <= 2


def test_step_button_runs_one_step_and_shows_the_arithmetic(playground):
    playground.step_button.click()
    model = playground.model
    assert model.steps == 1 and model.last_step.index == 0
    # AND, zero weights: z = 0 so ŷ = 1 but y = 0, hence Δw = (−0, −0) and Δb = −1.
    assert model.parameters() == (0.0, 0.0, -1.0)
    assert "ŷ = step(0) = 1" in playground.status.value
    assert "Δb = −1" in playground.status.value
    assert playground.b_slider.value == -1.0  # the sliders follow the model


def test_epoch_and_reset_buttons_drive_the_model(playground):
    playground.w1_slider.value = 0.5
    playground.epoch_button.click()
    assert playground.model.epochs == 1 and playground.model.position == 0
    playground.epoch_button.click()
    assert playground.model.epochs == 2
    playground.reset_button.click()
    assert playground.model.epochs == 0
    assert playground.model.parameters() == (0.5, 0.0, 0.0)
    assert playground.w1_slider.value == 0.5


def test_play_ticks_step_and_stop_once_xor_is_seen_to_cycle():
    playground = PerceptronPlayground("XOR")
    playground.play.playing = True
    for tick in range(1, 40):
        if not playground.play.playing:
            break
        playground.play.value = tick  # what the browser's timer does
    assert playground.model.status.state == "cycling"
    assert not playground.play.playing
    assert playground.model.steps == 12  # stopped right at the detection
    assert "cycling" in playground.status.value
    playground.play.value = 0  # the stop button rewinds: no step
    assert playground.model.steps == 12


def test_lr_activation_and_data_controls(playground):
    playground.lr_slider.value = 0.1
    assert playground.model.lr == pytest.approx(0.1)
    before = playground.png
    playground.w1_slider.value = 2.0
    playground.activation_dropdown.value = "sigmoid"
    assert playground.model.activation == "sigmoid"
    assert playground.png != before
    playground.data_dropdown.value = "XOR"
    assert playground.model.y.tolist() == [0, 1, 1, 0]
    playground.data_dropdown.value = "blobs"
    assert len(playground.model.X) == 40
    assert playground.model.parameters() == (2.0, 0.0, 0.0)  # a fresh run, same start


def test_sliders_widen_instead_of_clamping_trained_weights():
    X, y = make_blobs(40, separation=8, seed=0)
    playground = PerceptronPlayground(X=X, y=y, lr=10)
    playground.epoch_button.click()
    w1 = playground.model.weights[0]
    assert abs(w1) > playground.SLIDER_LIMIT
    assert playground.w1_slider.value == w1  # not clamped, so the model kept its weights
    assert playground.model.weights[0] == w1


def test_own_data_and_its_validation():
    X, y = make_blobs(20, seed=2)
    playground = PerceptronPlayground(X=X, y=y)
    assert playground.data_dropdown.value == "your data"
    np.testing.assert_array_equal(playground.model.X, X)
    with pytest.raises(ValueError, match="NaN"):
        PerceptronPlayground(X=np.r_[X[:-1], [[np.nan, 0]]], y=y)
    with pytest.raises(ValueError, match="unknown data 'XNOR'"):
        PerceptronPlayground("XNOR")


def test_static_png_fallback_in_the_mimebundle(playground):
    bundle = playground._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert png_pixels(base64.b64decode(bundle["image/png"])).shape[2] == 3
    assert bundle["text/plain"] == "PerceptronPlayground(data='AND', w1=0, w2=0, b=0)"


# ---------------------------------------------------------------------- issue 17: bad input
def test_a_slider_nudge_after_training_beyond_the_weight_limit_is_reported_not_raised():
    X, y = [[1e6, 1e6], [1e6, -1e6]], [0, 1]  # features at the largest allowed scale
    playground = PerceptronPlayground(X=X, y=y, lr=10.0)
    playground.step_button.click()  # one mistake: Δw = −η x = −1e7, past the ±1e6 limit
    trained = playground.model.parameters()
    assert abs(trained[0]) > 1e6
    playground.w2_slider.value = 0.5  # used to raise ValueError inside the handler
    assert playground.model.parameters() == trained  # refused: the model is unchanged
    assert "Not applied" in playground.status.value and "±1e+06" in playground.status.value
    assert playground.w2_slider.value == trained[1]  # the controls show the model again
    playground.reset_button.click()  # and the widget stays usable
    assert playground.model.parameters() == (0.0, 0.0, 0.0)
    assert "Not applied" not in playground.status.value


@pytest.mark.parametrize(
    "options, message",
    [
        ({"weights": (1, 2, 3)}, "weights must be two numbers"),
        ({"weights": 1.0}, "weights must be two numbers"),
        ({"max_epochs": math.nan}, "max_epochs must be a whole number"),
        ({"max_epochs": 2.5}, "max_epochs must be a whole number"),
        ({"max_epochs": 0}, "at least 1"),
    ],
)
def test_bad_weights_and_epoch_caps_get_a_clear_message(options, message):
    with pytest.raises(ValueError, match=message):
        Perceptron(*make_gate("AND"), **options)
