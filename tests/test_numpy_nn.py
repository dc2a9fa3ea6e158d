"""The NumPy network of lesson 4, checked against finite differences and against PyTorch."""

import copy

import numpy as np
import pytest
import torch

from widgets import numpy_nn as nn
from widgets.toy_data import make_spirals

F64 = np.float64


def random_shape(seed):
    rng = np.random.default_rng(seed)
    return int(rng.integers(1, 9)), int(rng.integers(1, 12)), int(rng.integers(1, 12))


def make_layer(kind, n_in, n_out, rng):
    if kind == "Dense":
        return nn.Dense(n_in, n_out, rng=rng, dtype=F64)
    if kind == "Dropout":
        return nn.Dropout(0.3, rng=rng)
    return {"ReLU": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh}[kind]()


LAYERS = ["Dense", "ReLU", "Sigmoid", "Tanh", "Dropout"]


# --------------------------------------------------------------------------- finite differences
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("seed", range(4))
def test_layer_backward_matches_finite_differences(kind, seed):
    batch, n_in, n_out = random_shape(seed)
    rng = np.random.default_rng(100 + seed)
    layer = make_layer(kind, n_in, n_out, rng)
    layer.params.get("b", np.zeros(0))[...] = rng.standard_normal(n_out if kind == "Dense" else 0)
    x = rng.standard_normal((batch, n_in))
    errors = nn.gradient_check(layer, x, seed=seed)
    assert set(errors) == {"input", *layer.params}
    for name, error in errors.items():
        assert error < 1e-7, f"{kind} {name}: relative error {error:.2e}"


def test_model_with_loss_matches_finite_differences():
    rng = np.random.default_rng(7)
    model = nn.Sequential(
        nn.Dense(5, 7, rng=rng, dtype=F64),
        nn.Tanh(),
        nn.Dropout(0.2, rng=rng),
        nn.Dense(7, 6, rng=rng, dtype=F64),
        nn.ReLU(),
        nn.Dense(6, 3, rng=rng, dtype=F64),
    )
    x, labels = rng.standard_normal((9, 5)), rng.integers(0, 3, 9)
    errors = nn.gradient_check(model, x, loss_fn=nn.SoftmaxCrossEntropy(), target=labels)
    assert set(errors) == {"input", "0.W", "0.b", "3.W", "3.b", "5.W", "5.b"}
    assert max(errors.values()) < 1e-7, errors


def test_mse_loss_matches_finite_differences():
    rng = np.random.default_rng(8)
    model = nn.Sequential(
        nn.Dense(3, 4, rng=rng, dtype=F64), nn.Sigmoid(), nn.Dense(4, 2, rng=rng, dtype=F64)
    )
    x, targets = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    errors = nn.gradient_check(model, x, loss_fn=nn.MSE(), target=targets)
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_catches_a_wrong_backward():
    class ForgetsTheBias(nn.Dense):
        def backward(self, grad_output, input_grad=True):
            grad_input = super().backward(grad_output, input_grad)
            self.grads["b"][...] = 0.0
            return grad_input * 2.0

    layer = ForgetsTheBias(4, 3, rng=np.random.default_rng(0), dtype=F64)
    errors = nn.gradient_check(layer, np.random.default_rng(1).standard_normal((5, 4)))
    assert errors["W"] < 1e-7
    assert errors["b"] == pytest.approx(1.0)
    assert errors["input"] > 0.3


def test_gradient_check_refuses_float32():
    layer = nn.Dense(3, 2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="float64"):
        nn.gradient_check(layer, np.ones((2, 3), dtype=np.float32))


# --------------------------------------------------------------------------- against torch.autograd
TORCH_FUNCTIONS = {"ReLU": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh}


@pytest.mark.parametrize("kind", ["Dense", "ReLU", "Sigmoid", "Tanh"])
@pytest.mark.parametrize("seed", range(4))
def test_layer_matches_torch_autograd(kind, seed):
    batch, n_in, n_out = random_shape(seed)
    rng = np.random.default_rng(200 + seed)
    layer = make_layer(kind, n_in, n_out, rng)
    x = rng.standard_normal((batch, n_in)) * 3
    out = layer.forward(x).copy()
    upstream = rng.standard_normal(out.shape)
    grad_x = layer.backward(upstream).copy()

    x_t = torch.tensor(x, requires_grad=True)
    if kind == "Dense":
        W_t = torch.tensor(layer.params["W"], requires_grad=True)
        b_t = torch.tensor(layer.params["b"], requires_grad=True)
        out_t = torch.nn.functional.linear(x_t, W_t, b_t)  # nn.Linear's layout: (n_out, n_in)
    else:
        out_t = TORCH_FUNCTIONS[kind](x_t)
    out_t.backward(torch.tensor(upstream))

    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, x_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    if kind == "Dense":
        np.testing.assert_allclose(layer.grads["W"], W_t.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"], b_t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_dropout_matches_torch_given_the_same_mask():
    rng = np.random.default_rng(3)
    layer = nn.Dropout(0.4, rng=rng)
    x = rng.standard_normal((500, 40))
    out = layer.forward(x).copy()
    kept = out != 0
    assert 0.55 < kept.mean() < 0.65  # keeps 1 - p = 60 % of the units
    upstream = rng.standard_normal(x.shape)
    grad_x = layer.backward(upstream)

    # torch.nn.functional.dropout scales the kept units by 1 / (1 - p) too.
    x_t = torch.tensor(x, requires_grad=True)
    out_t = x_t * torch.tensor(kept) / (1 - 0.4)
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad_x, x_t.grad.numpy(), rtol=1e-12)

    layer.eval()
    assert layer.forward(x) is x
    assert layer.backward(upstream) is upstream


@pytest.mark.parametrize("seed", range(3))
def test_softmax_cross_entropy_matches_torch(seed):
    rng = np.random.default_rng(seed)
    batch, n_classes = int(rng.integers(1, 20)), int(rng.integers(2, 12))
    logits = rng.standard_normal((batch, n_classes)) * 5
    labels = rng.integers(0, n_classes, batch)
    loss_fn = nn.SoftmaxCrossEntropy()
    loss = loss_fn.forward(logits, labels)
    grad = loss_fn.backward()

    logits_t = torch.tensor(logits, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.tensor(labels))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(grad, logits_t.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(loss_fn.probabilities.sum(axis=1), 1.0, rtol=1e-12)


def test_mse_matches_torch():
    rng = np.random.default_rng(4)
    predictions, targets = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    loss_fn = nn.MSE()
    loss = loss_fn.forward(predictions, targets)
    grad = loss_fn.backward()
    predictions_t = torch.tensor(predictions, requires_grad=True)
    loss_t = torch.nn.functional.mse_loss(predictions_t, torch.tensor(targets))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(grad, predictions_t.grad.numpy(), rtol=1e-12)


def test_l1_gradient_matches_torch_autograd_of_the_penalty():
    rng = np.random.default_rng(5)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4), np.zeros(2)]
    grads = [rng.standard_normal(p.shape) for p in params]
    expected_base = [g.copy() for g in grads]
    nn.add_l1_gradient(params, grads, 0.3)
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    (0.3 * sum(t.abs().sum() for t in tensors)).backward()
    for grad, base, tensor in zip(grads, expected_base, tensors, strict=True):
        np.testing.assert_allclose(grad - base, tensor.grad.numpy(), rtol=1e-12)
    assert np.all(grads[2] == expected_base[2])  # sign(0) = 0, as torch's abs has it
    with pytest.raises(ValueError, match="L1 strength"):
        nn.add_l1_gradient(params, grads, -1.0)


def test_shuffled_minibatches_keep_column_targets_for_regression():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = X[:, :1] * 0.5  # shape (10, 1), as MSE wants for one output
    for x_batch, y_batch in nn.iterate_minibatches(X, y, 4, rng=np.random.default_rng(0)):
        assert y_batch.shape == (len(x_batch), 1)
        np.testing.assert_array_equal(y_batch[:, 0], x_batch[:, 0] * 0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_is_finite_and_correct_at_extreme_logits(dtype):
    logits = np.array(
        [
            [1000.0, -1000.0, 0.0],
            [-1000.0, 1000.0, 1000.0],
            [-1000.0, -1000.0, -1000.0],
            [1000.0, -1000.0, 0.0],
        ],
        dtype=dtype,
    )
    labels = np.array([0, 1, 2, 1])
    loss_fn = nn.SoftmaxCrossEntropy()
    loss = loss_fn.forward(logits, labels)
    grad = loss_fn.backward()
    # Per row: -log p(label) = 0, log 2, log 3 and 2000 (label 1 is 2000 below the best logit).
    expected = (0.0 + np.log(2.0) + np.log(3.0) + 2000.0) / 4
    assert np.isfinite(loss)
    assert loss == pytest.approx(expected, rel=1e-6)
    assert np.all(np.isfinite(grad))
    expected_grad = np.array([[0, 0, 0], [0, -0.5, 0.5], [1 / 3, 1 / 3, -2 / 3], [1, -1, 0]]) / 4
    np.testing.assert_allclose(grad, expected_grad, atol=1e-7)
    torch_loss = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels))
    assert loss == pytest.approx(torch_loss.item(), rel=1e-6)


# ----------------------------------------------------------------- optimizers vs torch.optim
OPTIMIZER_CASES = [
    ("SGD", {"lr": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}, torch.optim.SGD, {"lr": 0.05, "weight_decay": 0.1}),
    ("Momentum", {"lr": 0.05, "momentum": 0.9}, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (
        "Momentum",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    ),
    ("RMSprop", {"lr": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    (
        "RMSprop",
        {"lr": 0.003, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05},
        torch.optim.RMSprop,
        {"lr": 0.003, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05},
    ),
    ("Adam", {"lr": 1e-3}, torch.optim.Adam, {"lr": 1e-3}),
    (
        "Adam",
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
        torch.optim.Adam,
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "ours", "torch_class", "theirs"), OPTIMIZER_CASES)
def test_optimizer_matches_torch_step_by_step(name, ours, torch_class, theirs, dtype):
    rng = np.random.default_rng(11)
    params = [rng.standard_normal(shape).astype(dtype) for shape in [(5, 4), (4,), (3, 2, 2)]]
    grads = [np.zeros_like(param) for param in params]
    torch_params = [torch.tensor(param, requires_grad=True) for param in params]
    optimizer = nn.OPTIMIZERS[name](params, grads, **ours)
    torch_optimizer = torch_class(torch_params, **theirs)
    # float64 agrees to 1e-6. float32 agrees to its rounding: torch fuses some multiply-adds
    # that NumPy rounds twice, and parameters that wander to +-10 carry ulps of 1e-6.
    tolerance = 1e-6 if dtype == np.float64 else 1e-5
    for _ in range(25):
        for grad, torch_param in zip(grads, torch_params, strict=True):
            grad[...] = rng.standard_normal(grad.shape) * rng.choice([1e-3, 1.0, 30.0])
            torch_param.grad = torch.tensor(grad.copy())
        before = [grad.copy() for grad in grads]
        optimizer.step()
        torch_optimizer.step()
        for param, torch_param in zip(params, torch_params, strict=True):
            np.testing.assert_allclose(param, torch_param.detach().numpy(), rtol=0, atol=tolerance)
        # weight decay must not touch the gradient
        for grad, original in zip(grads, before, strict=True):
            np.testing.assert_array_equal(grad, original)
    assert optimizer.step_count == 25


def test_optimizers_move_parameters_downhill():
    # f(p) = sum(p^2) / 2 has gradient p: every optimizer must shrink p.
    for name, optimizer_class in nn.OPTIMIZERS.items():
        param = np.full(3, 2.0)
        grad = np.zeros(3)
        optimizer = optimizer_class([param], [grad], lr=0.05)
        for _ in range(200):
            grad[...] = param
            optimizer.step()
        assert np.all(np.abs(param) < 1.0), (name, param)


def test_optimizer_rejects_mismatched_lists():
    with pytest.raises(ValueError, match="model.parameters"):
        nn.SGD([np.zeros(2)], [], lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        nn.Adam([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="positive"):
        nn.SGD([np.zeros(2)], [np.zeros(2)], lr=0)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("optimizer_class", "arguments", "named"),
    [
        (nn.Adam, {"eps": -1.0}, "eps"),
        (nn.Adam, {"eps": NAN}, "eps"),
        (nn.RMSprop, {"eps": -1.0}, "eps"),
        (nn.RMSprop, {"eps": NAN}, "eps"),
        (nn.RMSprop, {"alpha": -0.5}, "alpha"),
        (nn.RMSprop, {"alpha": NAN}, "alpha"),
        (nn.SGD, {"lr": NAN}, "learning rate"),
        (nn.SGD, {"lr": INF}, "learning rate"),
        (nn.SGD, {"lr": "0.1"}, "learning rate"),
        (nn.SGD, {"lr": None}, "learning rate"),
        (nn.SGD, {"weight_decay": NAN}, "weight_decay"),
        (nn.Momentum, {"momentum": NAN}, "momentum"),
        (nn.Momentum, {"momentum": 0.0, "nesterov": True}, "nesterov"),
        (nn.Adam, {"betas": (0.9, NAN)}, r"betas\[1\]"),
        (nn.Adam, {"betas": (0.9,)}, "pair"),
    ],
)
def test_optimizers_reject_what_torch_rejects(optimizer_class, arguments, named):
    params, grads = [np.zeros(2)], [np.zeros(2)]
    with pytest.raises(ValueError, match=named):
        optimizer_class(params, grads, **arguments)


def test_setting_a_non_finite_learning_rate_is_refused():
    optimizer = nn.Adam([np.zeros(2)], [np.zeros(2)], lr=0.1)
    optimizer.lr = 0.05  # schedules set it between epochs
    assert optimizer.lr == 0.05
    with pytest.raises(ValueError, match="learning rate"):
        optimizer.lr = NAN
    assert optimizer.lr == 0.05


def _spiral_setup():
    X, y = make_spirals(60, classes=3, seed=0)
    rng = np.random.default_rng(0)
    model = nn.mlp([2, 8, 3], rng=rng)
    return model, nn.SGD(model.parameters(), model.gradients(), lr=0.1), X.astype(np.float32), y


def test_fit_returns_the_history_so_far_when_interrupted(capsys):
    model, optimizer, X, y = _spiral_setup()

    def interrupt_after_epoch_2(record):
        if record["epoch"] == 2:
            raise KeyboardInterrupt  # as Ctrl-C or Jupyter's stop button would, mid-run

    history = nn.fit(
        model,
        nn.SoftmaxCrossEntropy(),
        optimizer,
        X,
        y,
        epochs=5,
        on_epoch_end=interrupt_after_epoch_2,
    )
    assert [record["epoch"] for record in history] == [1, 2]
    assert "interrupted in epoch 3 of 5" in capsys.readouterr().out


def test_fit_names_a_schedule_that_returns_a_bad_rate():
    model, optimizer, X, y = _spiral_setup()
    with pytest.raises(ValueError, match=r"lr_schedule\(1\) returned nan"):
        nn.fit(
            model,
            nn.SoftmaxCrossEntropy(),
            optimizer,
            X,
            y,
            epochs=3,
            lr_schedule=lambda epoch: 0.1 if epoch == 0 else NAN,
        )


# --------------------------------------------------------------------------- layers and model
def test_dense_weights_copy_to_and_from_torch_linear_without_transpose():
    dense = nn.Dense(5, 3, rng=np.random.default_rng(0), dtype=F64)
    linear = torch.nn.Linear(5, 3, dtype=torch.float64)
    assert tuple(linear.weight.shape) == dense.params["W"].shape == (3, 5)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(dense.params["W"]))
        linear.bias.copy_(torch.from_numpy(dense.params["b"]))
    x = np.random.default_rng(1).standard_normal((4, 5))
    expected = linear(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(dense.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_dense_shapes_dtype_and_init_scales():
    rng = np.random.default_rng(0)
    he = nn.Dense(1000, 400, rng=rng)
    assert he.params["W"].dtype == np.float32 and he.params["W"].shape == (400, 1000)
    assert he.params["W"].std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    xavier = nn.Dense(1000, 400, rng=rng, init="xavier")
    assert xavier.params["W"].std() == pytest.approx(np.sqrt(2 / 1400), rel=0.02)
    assert np.abs(xavier.params["W"]).max() <= np.sqrt(6 / 1400)
    assert nn.Dense(10, 10, rng=rng, init=0.01).params["W"].std() == pytest.approx(0.01, rel=0.2)
    assert not he.params["b"].any()
    out = he.forward(np.ones((3, 1000), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (3, 400)
    with pytest.raises(ValueError, match="init"):
        nn.Dense(2, 2, init="glorot")


def test_he_init_keeps_the_signal_scale_through_relu_layers():
    rng = np.random.default_rng(1)
    model = nn.mlp([500] * 11, rng=rng)
    x = rng.standard_normal((200, 500)).astype(np.float32)
    out = model.forward(x)
    # Without the factor 2 the mean square would halve at every layer: 2**-10 after ten.
    assert 0.3 < np.mean(out**2) / np.mean(x**2) < 3


def test_layers_give_clear_errors_for_wrong_inputs():
    layer = nn.Dense(784, 10, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="astype"):
        layer.forward(np.zeros((2, 784), dtype=np.uint8))
    with pytest.raises(ValueError, match="reshape"):
        layer.forward(np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="784 features"):
        layer.forward(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.ReLU().backward(np.zeros((1, 1)))
    loss = nn.SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match="0..2"):
        loss.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="0..2"):
        loss.forward(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="one-hot"):
        loss.forward(np.zeros((2, 3)), np.eye(3)[:2])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        nn.Dropout(1.0)


def test_sequential_names_parameters_and_gradients_in_order():
    rng = np.random.default_rng(0)
    model = nn.mlp([4, 3, 2], rng=rng, dropout=0.1)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "ReLU", "Dropout", "Dense"]
    assert list(model.params) == ["0.W", "0.b", "3.W", "3.b"]
    assert list(model.grads) == list(model.params)
    assert model.parameters()[2] is model.layers[3].params["W"]
    assert model.gradients()[2] is model.layers[3].grads["W"]
    model.eval()
    assert not any(layer.training for layer in model.layers)


def test_layer_outputs_are_reused_buffers_and_predict_returns_new_arrays():
    rng = np.random.default_rng(0)
    model = nn.mlp([3, 5, 2], rng=rng)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    first = model.forward(a)
    second = model.forward(b)
    assert first is second or np.shares_memory(first, second)  # documented: copy to keep
    logits_a, logits_b = model.predict_logits(a), model.predict_logits(b)
    assert not np.shares_memory(logits_a, logits_b)
    assert not np.allclose(logits_a, logits_b)
    np.testing.assert_array_equal(model.predict(a), logits_a.argmax(axis=1))


def test_skipping_the_input_gradient_keeps_the_parameter_gradients():
    rng = np.random.default_rng(0)
    model = nn.mlp([6, 4, 3], rng=rng, dtype=F64)
    x, grad = rng.standard_normal((5, 6)), rng.standard_normal((5, 3))
    model.forward(x)
    assert model.backward(grad).shape == (5, 6)
    full = {name: value.copy() for name, value in model.grads.items()}
    assert model.backward(grad, input_grad=False) is None
    for name, value in model.grads.items():
        np.testing.assert_array_equal(value, full[name])


# --------------------------------------------------------------------------- training
def test_minibatches_cover_the_data_once_and_reshuffle_every_epoch():
    X = np.arange(50, dtype=np.float32).reshape(25, 2)
    y = np.arange(25)
    rng = np.random.default_rng(0)
    orders = []
    for _ in range(2):
        seen = []
        for x_batch, y_batch in nn.iterate_minibatches(X, y, 7, rng=rng):
            assert len(x_batch) == len(y_batch) <= 7
            np.testing.assert_array_equal(x_batch[:, 0], 2 * y_batch)  # rows stay paired
            seen.extend(y_batch.tolist())
        assert sorted(seen) == list(range(25))
        orders.append(seen)
    assert orders[0] != orders[1]
    in_order = [yb.tolist() for _, yb in nn.iterate_minibatches(X, y, 10)]
    assert in_order == [list(range(10)), list(range(10, 20)), list(range(20, 25))]


def test_fit_learns_spirals_and_reports_every_epoch():
    X, y = make_spirals(300, classes=3, noise=0.1, seed=0)
    X = X.astype(np.float32)
    rng = np.random.default_rng(0)
    model = nn.mlp([2, 64, 64, 3], rng=rng)
    optimizer = nn.Adam(model.parameters(), model.gradients(), lr=0.01)
    seen = []
    history = nn.fit(
        model,
        nn.SoftmaxCrossEntropy(),
        optimizer,
        X,
        y,
        epochs=60,
        batch_size=32,
        rng=rng,
        validation_data=(X, y),
        on_epoch_end=seen.append,
        lr_schedule=lambda epoch: 0.01 if epoch < 50 else 0.003,
    )
    assert seen == history and [record["epoch"] for record in history] == list(range(1, 61))
    assert history[-1]["lr"] == 0.003
    assert history[-1]["loss"] < history[0]["loss"] / 3
    assert history[-1]["val_acc"] >= 0.95
    assert np.mean(model.predict(X) == y) == pytest.approx(history[-1]["val_acc"])


def test_initial_loss_is_log_of_the_number_of_classes():
    rng = np.random.default_rng(0)
    model = nn.mlp([784, 64, 10], rng=rng)
    last = model.layers[-1]
    last.params["W"] *= 0.01  # near-uniform predictions, as a freshly initialised net should give
    X = rng.random((500, 784), dtype=np.float32)
    loss, _ = nn.evaluate(model, nn.SoftmaxCrossEntropy(), X, rng.integers(0, 10, 500))
    assert loss == pytest.approx(np.log(10), abs=0.02)


def test_prepare_images_scales_to_unit_float32_rows():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    rows = nn.prepare_images(images)
    assert rows.dtype == np.float32 and rows.shape == (1, 4) and rows.flags.c_contiguous
    np.testing.assert_allclose(rows, [[0.0, 1.0, 0.2, 0.4]], rtol=1e-6)


def test_deepcopy_reproduces_dropout_masks():
    layer = nn.Dropout(0.5, rng=np.random.default_rng(0))
    twin = copy.deepcopy(layer)
    x = np.ones((4, 6))
    np.testing.assert_array_equal(layer.forward(x), twin.forward(x))


# --------------------------------------------------------------------------- the benchmark
def load_benchmark():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "bench_numpy_vs_torch.py"
    spec = importlib.util.spec_from_file_location("bench_numpy_vs_torch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_compares_the_same_architecture_and_both_learn():
    bench = load_benchmark()
    rng = np.random.default_rng(0)
    X = rng.random((1024, 784), dtype=np.float32)
    y = (X[:, :392].sum(axis=1) > X[:, 392:].sum(axis=1)).astype(np.int64)  # learnable
    numpy_trainer, torch_trainer = bench.NumpyTrainer(X, y), bench.TorchTrainer(X, y)
    numpy_shapes = [param.shape for param in numpy_trainer.model.parameters()]
    torch_shapes = [tuple(p.shape) for p in torch_trainer.model.parameters()]  # same layout
    assert (
        numpy_shapes == torch_shapes == [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]
    )
    for trainer in (numpy_trainer, torch_trainer):
        first = trainer.epoch()
        for _ in range(4):
            last = trainer.epoch()
        assert last < first * 0.8, (trainer.name, first, last)
