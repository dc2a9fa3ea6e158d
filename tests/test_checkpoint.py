"""Checkpoints: exact resume, weights_only loading, mismatch errors, atomic saves, keep-best."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from widgets.checkpoint import (
    BestCheckpoint,
    CheckpointMismatchError,
    CheckpointReadError,
    atomic_torch_save,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from widgets.torch_training import fit, make_mlp


def _experiment(seed: int = 0):
    """A small run whose every step depends on randomness: shuffling, dropout, init."""
    torch.manual_seed(seed)
    data = torch.Generator().manual_seed(123)
    X = torch.randn(96, 6, generator=data)
    y = (X[:, 0] + X[:, 1] > 0).long()
    loader = DataLoader(
        TensorDataset(X, y),
        batch_size=16,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    model = make_mlp([6, 16, 2], dropout=0.3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler, loader


def _losses(history):
    return [record["loss"] for record in history]


def test_resumed_run_matches_the_uninterrupted_run(tmp_path):
    model, optimizer, scheduler, loader = _experiment()
    uninterrupted = _losses(
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=6, scheduler=scheduler)
    )

    model, optimizer, scheduler, loader = _experiment()
    first_half = _losses(
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=3, scheduler=scheduler)
    )
    save_checkpoint(
        tmp_path / "run.pt",
        model,
        optimizer,
        scheduler,
        epoch=3,
        generators={"shuffle": loader.generator},
    )

    # A fresh process would start from other weights and other random states.
    model, optimizer, scheduler, loader = _experiment(seed=99)
    torch.rand(17)
    info = load_checkpoint(
        tmp_path / "run.pt", model, optimizer, scheduler, generators={"shuffle": loader.generator}
    )
    assert info["epoch"] == 3
    second_half = _losses(
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=3, scheduler=scheduler)
    )

    assert first_half + second_half == uninterrupted  # exactly, not approximately
    assert scheduler.get_last_lr() == [0.01 * 0.5**3]


def test_resume_without_the_rng_state_differs(tmp_path):
    """The RNG state matters: the test above could not pass by accident."""
    model, optimizer, scheduler, loader = _experiment()
    fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=3, scheduler=scheduler)
    save_checkpoint(tmp_path / "run.pt", model, optimizer, scheduler, epoch=3)
    expected = _losses(
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=1, scheduler=scheduler)
    )
    model, optimizer, scheduler, loader = _experiment(seed=5)
    load_checkpoint(tmp_path / "run.pt", model, optimizer, scheduler, restore_rng=False)
    resumed = _losses(
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=1, scheduler=scheduler)
    )
    assert resumed != expected


def test_rng_state_round_trip_covers_python_numpy_and_torch():
    state = capture_rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    random.random(), np.random.rand(3), torch.rand(5)
    restore_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_checkpoint_loads_with_weights_only(tmp_path):
    model, optimizer, scheduler, _ = _experiment()
    onecycle = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10)
    path = save_checkpoint(
        tmp_path / "c.pt",
        model,
        optimizer,
        onecycle,
        epoch=1,
        metrics={"val_loss": 0.5, "history": [1.0, 0.7]},
    )
    state = torch.load(path, weights_only=True)  # raises if anything unsafe was pickled
    assert state["epoch"] == 1
    assert state["metrics"]["history"] == [1.0, 0.7]
    assert torch.equal(state["model"]["0.weight"], model[0].weight.detach())


class Payload:
    """Any class outside torch's allow-list is what weights_only loading blocks."""


def test_unsafe_pickle_is_refused_with_an_explanation(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"format": 1, "payload": Payload()}, handle, protocol=2)
    with pytest.raises(ValueError, match="weights_only") as error:
        load_checkpoint(path, make_mlp([6, 16, 2]))
    assert str(path) in str(error.value)
    assert "Payload" in str(error.value)  # names the class the file wants to build
    assert "weights_only=False" not in str(error.value)  # the advice stays safe


def test_mismatched_checkpoint_names_keys_and_shapes(tmp_path):
    path = save_checkpoint(tmp_path / "small.pt", make_mlp([6, 16, 2]), epoch=0)
    wider = make_mlp([6, 32, 2])
    before = wider[0].weight.detach().clone()
    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint(path, wider)
    message = str(error.value)
    assert "0.weight: checkpoint small.pt (16, 6), model (32, 6)" in message
    assert "2.weight" in message and "(2, 16)" in message
    assert torch.equal(wider[0].weight, before)  # nothing was loaded

    deeper = make_mlp([6, 16, 16, 2])
    with pytest.raises(CheckpointMismatchError, match=r"missing from the checkpoint small.pt: 4\."):
        load_checkpoint(path, deeper)
    save_checkpoint(tmp_path / "deep.pt", deeper, epoch=0)
    with pytest.raises(CheckpointMismatchError, match=r"not in the model: 4\.weight, 4\.bias"):
        load_checkpoint(tmp_path / "deep.pt", make_mlp([6, 16, 2]))


def test_missing_file_and_foreign_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nope.pt", make_mlp([6, 2]))
    torch.save(make_mlp([6, 2]).state_dict(), tmp_path / "bare.pt")
    with pytest.raises(ValueError, match="not written by save_checkpoint"):
        load_checkpoint(tmp_path / "bare.pt", make_mlp([6, 2]))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt", make_mlp([6, 2]))


@pytest.mark.parametrize("fraction", [0.0005, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999])
def test_a_truncated_checkpoint_is_reported_with_its_name_and_safe_advice(tmp_path, fraction):
    intact = save_checkpoint(tmp_path / "run.pt", make_mlp([6, 16, 2]), epoch=1).read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(intact[: max(1, int(len(intact) * fraction))])
    with pytest.raises(CheckpointReadError) as error:
        load_checkpoint(cut, make_mlp([6, 16, 2]))
    message = str(error.value)
    assert str(cut) in message and "damaged" in message and "save it again" in message
    assert "weights_only=False" not in message


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello, this is a text file and not a checkpoint\n",
        bytes(range(256)) * 4,
        np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    ],
    ids=["empty", "text", "all-bytes", "random-bytes"],
)
def test_a_file_that_is_not_a_checkpoint_gets_a_clear_error_and_safe_advice(tmp_path, content):
    path = tmp_path / "notes.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointReadError) as error:
        load_checkpoint(path, make_mlp([6, 2]))
    assert str(path) in str(error.value)
    assert "weights_only=False" not in str(error.value)


def test_a_checkpoint_with_missing_parts_names_them(tmp_path):
    path = tmp_path / "partial.pt"
    torch.save({"format": 1, "epoch": 2, "model": {"0.weight": "not a tensor"}}, path)
    with pytest.raises(CheckpointReadError, match=r"optimizer \(missing\).*rng \(missing\)"):
        load_checkpoint(path, make_mlp([6, 2]))
    state = {
        "format": 1,
        "epoch": 2,
        "model": {"0.weight": "not a tensor"},
        "optimizer": None,
        "scheduler": None,
        "rng": {},
        "metrics": {},
    }
    torch.save(state, path)
    with pytest.raises(CheckpointReadError, match=r"model\['0.weight'\] \(str, not a tensor\)"):
        load_checkpoint(path, make_mlp([6, 2]))
    with pytest.raises(IsADirectoryError, match="is a folder"):
        load_checkpoint(tmp_path, make_mlp([6, 2]))


def test_interrupted_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    model = make_mlp([6, 16, 2])
    save_checkpoint(path, model, epoch=1)
    saved_bytes = path.read_bytes()

    def interrupted_save(obj, handle):
        handle.write(b"half a checkpoint")  # the process dies in the middle of writing
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, epoch=2)
    monkeypatch.undo()

    assert path.read_bytes() == saved_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]  # no partial file left
    assert load_checkpoint(path, make_mlp([6, 16, 2]))["epoch"] == 1


def test_atomic_save_creates_folders_and_replaces(tmp_path):
    path = tmp_path / "deep" / "folder" / "x.pt"
    atomic_torch_save({"a": torch.ones(2)}, path)
    atomic_torch_save({"a": torch.zeros(2)}, path)
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.zeros(2))
    assert [p.name for p in path.parent.iterdir()] == ["x.pt"]


def test_keep_best_saves_only_improvements_and_counts_patience(tmp_path):
    model = make_mlp([6, 2])
    best = BestCheckpoint(tmp_path / "best.pt")
    saved = []
    for epoch, val_loss in enumerate([0.9, 0.7, 0.8, 0.6, 0.65, 0.66]):
        with torch.no_grad():
            model[0].bias.fill_(epoch)  # tag the weights with the epoch
        saved.append(best.update(val_loss, model, epoch=epoch))
    assert saved == [True, True, False, True, False, False]
    assert (best.best_epoch, best.best_value, best.epochs_since_best) == (3, 0.6, 2)
    info = best.restore(model)
    assert info["epoch"] == 3 and info["metrics"]["value"] == 0.6
    assert torch.all(model[0].bias == 3)


def test_keep_best_max_mode_and_errors(tmp_path):
    best = BestCheckpoint(tmp_path / "b.pt", mode="max", min_delta=0.01)
    model = make_mlp([6, 2])
    assert best.update(0.80, model, epoch=0)
    assert not best.update(0.805, model, epoch=1)  # within min_delta: not an improvement
    assert best.update(0.82, model, epoch=2)
    with pytest.raises(ValueError, match="diverged"):
        best.update(float("nan"), model, epoch=3)
    with pytest.raises(ValueError, match="mode"):
        BestCheckpoint(tmp_path / "c.pt", mode="lowest")
    with pytest.raises(RuntimeError, match="update"):
        BestCheckpoint(tmp_path / "d.pt").restore(model)
