"""One fit contract for NumPy (lesson 4) and PyTorch (lesson 5): monitor, on_epoch_end, root."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from widgets import numpy_nn
from widgets.data import data_root
from widgets.fitting import run_epochs
from widgets.monitor import TrainingMonitor
from widgets.torch_training import fit as torch_fit
from widgets.torch_training import load_tensors, make_mlp


def numpy_fit(epochs, **options):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model = numpy_nn.mlp([3, 8, 2], rng=rng, dtype=np.float64)
    optimizer = numpy_nn.SGD(model.parameters(), model.gradients(), lr=0.1)
    loss_fn = numpy_nn.SoftmaxCrossEntropy()
    return numpy_nn.fit(model, loss_fn, optimizer, X, y, epochs=epochs, rng=rng, **options)


def pytorch_fit(epochs, **options):
    torch.manual_seed(0)
    X, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    model = make_mlp([3, 8, 2])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = [(X[:20], y[:20]), (X[20:], y[20:])]
    return torch_fit(
        model, loader, torch.nn.CrossEntropyLoss(), optimizer, epochs=epochs, **options
    )


@pytest.mark.parametrize("fit", [numpy_fit, pytorch_fit], ids=["numpy", "pytorch"])
def test_on_epoch_end_sees_every_record_and_returning_true_stops(fit):
    seen = []
    history = fit(5, on_epoch_end=lambda record: seen.append(record) or record["epoch"] == 3)
    assert [record["epoch"] for record in history] == [1, 2, 3]
    assert seen == history
    assert all(np.isfinite(record["loss"]) for record in history)


@pytest.mark.parametrize("fit", [numpy_fit, pytorch_fit], ids=["numpy", "pytorch"])
def test_a_monitor_logs_every_epoch_but_not_its_duration(fit):
    monitor = TrainingMonitor(view="none")
    history = fit(3, monitor=monitor)
    assert [row["epoch"] for row in monitor.history] == [1, 2, 3]
    assert [row["loss"] for row in monitor.history] == [record["loss"] for record in history]
    assert all("seconds" not in row for row in monitor.history)
    assert monitor.total == 3 and monitor.completed == 3


def test_an_interrupt_in_a_callback_keeps_the_epochs_done():
    def interrupt_at_two(record):
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    history = run_epochs(
        lambda epoch: {"epoch": epoch, "loss": 1.0 / epoch},
        5,
        monitor=TrainingMonitor(view="none"),
        on_epoch_end=interrupt_at_two,
    )
    assert [record["epoch"] for record in history] == [1, 2]


def test_epochs_must_be_a_positive_integer():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            run_epochs(lambda epoch: {}, bad)


def test_load_tensors_reads_the_root_it_is_given(tmp_path, monkeypatch):
    (tmp_path / "FashionMNIST").symlink_to(data_root() / "FashionMNIST")
    monkeypatch.setenv("NN_COURSE_DATA", str(tmp_path / "nothing-here"))
    X, y = load_tensors("fashion-mnist", "test", limit=5, root=tmp_path, statistics=(0.5, 0.5))
    assert X.shape == (5, 784) and y.dtype == torch.int64
