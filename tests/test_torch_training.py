"""The standard PyTorch loops, the MLP builder and the Fashion-MNIST tensors."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from widgets.monitor import TrainingMonitor
from widgets.torch_training import (
    evaluate,
    fit,
    load_tensors,
    make_loaders,
    make_mlp,
    pixel_statistics,
    train_one_epoch,
)


def toy_data(n=40, features=4, classes=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, features, generator=generator)
    y = torch.randint(0, classes, (n,), generator=generator)
    return X, y


# ---------------------------------------------------------------------- make_mlp
def test_make_mlp_stacks_linear_and_relu_and_ends_with_logits():
    model = make_mlp([4, 8, 6, 3])
    assert [type(layer) for layer in model] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [(layer.in_features, layer.out_features) for layer in model[::2]] == [
        (4, 8),
        (8, 6),
        (6, 3),
    ]


def test_make_mlp_with_batch_norm_and_dropout():
    model = make_mlp([4, 8, 3], dropout=0.25, batch_norm=True)
    assert [type(layer) for layer in model] == [
        nn.Linear,
        nn.BatchNorm1d,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
    ]
    assert model[0].bias is None  # batch norm's shift replaces it
    assert model[3].p == 0.25
    assert model[4].bias is not None


@pytest.mark.parametrize(
    "sizes, dropout, message",
    [
        ([784], 0.0, "at least an input and an output"),
        ([4, 0, 2], 0.0, "all >= 1"),
        ([4, 2], 1.0, "probability"),
    ],
)
def test_make_mlp_explains_bad_arguments(sizes, dropout, message):
    with pytest.raises(ValueError, match=message):
        make_mlp(sizes, dropout=dropout)


# ---------------------------------------------------------------------- loops
def test_train_one_epoch_takes_one_sgd_step_per_batch_without_accumulating():
    X, y = toy_data()
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    expected = nn.Linear(4, 3)
    expected.load_state_dict(model.state_dict())
    loader = [(X[:20], y[:20]), (X[20:], y[20:])]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
    # by hand: w <- w - lr * dL/dw, with a fresh gradient for each batch
    for inputs, targets in loader:
        loss = nn.functional.cross_entropy(expected(inputs), targets)
        gradients = torch.autograd.grad(loss, list(expected.parameters()))
        with torch.no_grad():
            for parameter, gradient in zip(expected.parameters(), gradients, strict=True):
                parameter -= 0.5 * gradient
    for actual, wanted in zip(model.parameters(), expected.parameters(), strict=True):
        torch.testing.assert_close(actual, wanted)


def test_train_one_epoch_reports_the_loss_weighted_by_batch_size():
    X, y = toy_data(n=10)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no change: losses are comparable
    loader = [(X[:9], y[:9]), (X[9:], y[9:])]  # a full batch and a batch of one
    loss, accuracy = train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
    with torch.no_grad():
        outputs = model(X)
    assert loss == pytest.approx(nn.functional.cross_entropy(outputs, y).item(), rel=1e-6)
    assert accuracy == pytest.approx((outputs.argmax(1) == y).float().mean().item())


def test_evaluate_uses_eval_mode_and_no_gradients_and_restores_the_mode():
    X, y = toy_data(n=30)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3))
    loader = DataLoader(TensorDataset(X, y), batch_size=7)  # uneven last batch
    model.train()
    first = evaluate(model, loader, nn.CrossEntropyLoss())
    second = evaluate(model, loader, nn.CrossEntropyLoss())
    assert first == second  # dropout was off
    assert model.training  # put back as it was
    assert all(parameter.grad is None for parameter in model.parameters())
    model.eval()
    with torch.no_grad():
        outputs = model(X)
    assert first[0] == pytest.approx(nn.functional.cross_entropy(outputs, y).item(), rel=1e-6)
    assert first[1] == pytest.approx((outputs.argmax(1) == y).float().mean().item())
    model.eval()
    evaluate(model, loader, nn.CrossEntropyLoss())
    assert not model.training


def test_loops_explain_mismatched_batches():
    model = nn.Linear(4, 3)
    bad = [(torch.randn(5, 4), torch.zeros(4, dtype=torch.long))]
    with pytest.raises(ValueError, match="5 inputs but 4 targets"):
        evaluate(model, bad, nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="no batches"):
        evaluate(model, [], nn.CrossEntropyLoss())


def test_fit_learns_and_records_each_epoch_with_the_rate_it_used():
    X, y = toy_data(n=60)
    y = (X[:, 0] > 0).long()  # learnable
    torch.manual_seed(0)
    model = make_mlp([4, 16, 2])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    loader = DataLoader(TensorDataset(X, y), batch_size=20)
    history = fit(
        model,
        loader,
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=4,
        val_loader=loader,
        scheduler=scheduler,
    )
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert [row["lr"] for row in history] == [0.4, 0.2, 0.1, 0.05]
    assert set(history[0]) == {"epoch", "loss", "acc", "val_loss", "val_acc", "lr"}
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["val_acc"] >= 0.8  # chance is about 0.5


def test_fit_feeds_the_validation_loss_to_reduce_on_plateau():
    X, y = toy_data(n=20)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # the loss never improves
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    optimizer.param_groups[0]["lr"] = 0.0
    seen = []
    original_step = scheduler.step
    scheduler.step = lambda metric: (seen.append(metric), original_step(metric))
    loader = [(X, y)]
    history = fit(
        model,
        loader,
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=2,
        val_loader=[(X[:5], y[:5])],
        scheduler=scheduler,
    )
    assert seen == [history[0]["val_loss"], history[1]["val_loss"]]


def test_fit_logs_every_epoch_to_the_monitor(capsys):
    X, y = toy_data(n=20)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = TrainingMonitor(view="none")
    history = fit(model, [(X, y)], nn.CrossEntropyLoss(), optimizer, epochs=3, monitor=monitor)
    assert monitor.history == history
    assert monitor.total == 3 and monitor.completed == 3
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(model, [(X, y)], nn.CrossEntropyLoss(), optimizer, epochs=0)


def test_fit_stops_when_the_monitor_flags_a_divergence():
    X, y = toy_data(n=20)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e6)  # far too high: the loss explodes
    monitor = TrainingMonitor(view="none", stop_on_divergence=True)
    history = fit(model, [(X, y)], nn.CrossEntropyLoss(), optimizer, epochs=50, monitor=monitor)
    assert len(history) < 50
    assert monitor.flags and monitor.stopped_reason.endswith("(diverged)")


# ---------------------------------------------------------------------- data
def test_pixel_statistics_match_numpy():
    images = torch.randint(0, 256, (50, 28, 28), generator=torch.Generator().manual_seed(1))
    images = images.numpy().astype("uint8")
    mean, std = pixel_statistics(images)
    assert mean == pytest.approx((images / 255.0).mean())
    assert std == pytest.approx((images / 255.0).std())


def test_fashion_mnist_tensors_are_standardised_with_the_training_statistics():
    X, y = load_tensors("fashion-mnist", "train")
    assert X.shape == (60000, 784) and X.dtype == torch.float32
    assert y.shape == (60000,) and y.dtype == torch.int64
    assert X.mean().item() == pytest.approx(0.0, abs=1e-4)
    assert X.std().item() == pytest.approx(1.0, abs=1e-4)
    X_test, _ = load_tensors("fashion-mnist", "test", limit=500, flatten=False)
    assert X_test.shape == (500, 1, 28, 28)
    # the test images use the training mean/std: a blank (0) pixel maps to the same value
    assert X_test.min().item() == pytest.approx(X.min().item())
    with pytest.raises(ValueError, match="limit must be a positive"):
        load_tensors("fashion-mnist", "test", limit=0)


def test_make_loaders_holds_out_validation_and_shuffles_reproducibly():
    loaders = make_loaders(batch_size=64, train_size=1000, validation_size=200, test_size=300)
    assert len(loaders.train.dataset) == 1000
    assert len(loaders.validation.dataset) == 200
    assert len(loaders.test.dataset) == 300
    full, labels = load_tensors("fashion-mnist", "train")
    torch.testing.assert_close(loaders.validation.dataset.tensors[0], full[-200:])
    torch.testing.assert_close(loaders.train.dataset.tensors[1], labels[:1000])
    assert torch.equal(loaders.train.dataset.tensors[0], full[:1000])  # bit for bit
    # only the images used are held in memory, not a view into all 60,000
    for part, count in ((loaders.train, 1000), (loaders.validation, 200)):
        assert part.dataset.tensors[0].untyped_storage().nbytes() == count * 784 * 4
    first = next(iter(loaders.train))[1]
    again = next(iter(make_loaders(batch_size=64, train_size=1000, test_size=300).train))[1]
    assert torch.equal(first, again)  # same seed, same order
    assert not torch.equal(first, labels[:64])  # but shuffled
    assert make_loaders(train_size=100, test_size=100).validation is None


def test_make_loaders_explains_bad_sizes():
    with pytest.raises(ValueError, match="leaves no training images"):
        make_loaders(validation_size=60000)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        make_loaders(batch_size=0)
