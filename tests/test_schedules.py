"""Learning-rate schedules the way lesson 6 uses them with this project's code: stepped once
per batch through an optimizer hook while ``fit`` runs, and carried through a checkpoint
so a resumed run continues the curve. (The schedules' formulas are PyTorch's, tested by
PyTorch; lesson 6 plots them.)
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset

from widgets.checkpoint import load_checkpoint, save_checkpoint
from widgets.torch_training import fit, make_mlp

BASE_LR = 0.1


def _optimizer(lr: float = BASE_LR) -> torch.optim.Optimizer:
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def _trace(scheduler, steps: int) -> list[float]:
    """The learning rate used at steps 0, 1, ..., steps-1."""
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return rates


def _tiny_loader(batches: int = 4, batch_size: int = 8) -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(batches * batch_size, 3, generator=generator)
    return DataLoader(TensorDataset(X, (X[:, 0] > 0).long()), batch_size=batch_size)


def test_per_batch_schedule_through_an_optimizer_hook():
    """``fit`` steps schedulers per epoch; OneCycle wants one step per batch."""
    torch.manual_seed(0)
    model = make_mlp([3, 4, 2])
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    loader, epochs = _tiny_loader(), 3
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=epochs * len(loader))
    seen = []
    optimizer.register_step_post_hook(lambda *_: seen.append(scheduler.get_last_lr()[0]))
    optimizer.register_step_post_hook(lambda *_: scheduler.step())
    fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=epochs)
    assert len(seen) == 12  # one learning rate per batch, every one of them used
    reference = lr_scheduler.OneCycleLR(_optimizer(0.01), max_lr=0.01, total_steps=12)
    assert seen == pytest.approx(_trace(reference, 12), abs=1e-15)
    assert scheduler.last_epoch == 12  # and not one step more (OneCycle would raise)


def test_a_scheduler_resumed_from_a_checkpoint_continues_the_curve(tmp_path):
    def make():
        model = make_mlp([3, 2])
        optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR)
        return model, optimizer, lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)

    _, _, scheduler = make()
    uninterrupted = _trace(scheduler, 8)

    model, optimizer, scheduler = make()
    first = _trace(scheduler, 3)
    save_checkpoint(tmp_path / "s.pt", model, optimizer, scheduler, epoch=3)
    model, optimizer, scheduler = make()  # a fresh scheduler starts at the top again
    assert scheduler.get_last_lr()[0] == BASE_LR
    load_checkpoint(tmp_path / "s.pt", model, optimizer, scheduler)
    assert first + _trace(scheduler, 5) == pytest.approx(uninterrupted, abs=1e-15)
