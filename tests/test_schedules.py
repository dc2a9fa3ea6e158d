"""Learning-rate schedules at known steps: the formulas lesson 6 states, checked on torch.

Also the two ways the lesson uses them: stepped once per batch through an optimizer hook
while ``fit`` runs, and carried through a checkpoint so a resumed run continues the curve.
"""

from __future__ import annotations

import math

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


def test_step_lr_multiplies_by_gamma_every_step_size_steps():
    rates = _trace(lr_scheduler.StepLR(_optimizer(), step_size=3, gamma=0.5), 10)
    assert rates == pytest.approx([BASE_LR * 0.5 ** (t // 3) for t in range(10)])
    assert rates[2] == pytest.approx(0.1) and rates[3] == pytest.approx(0.05)


def test_cosine_follows_half_a_cosine_to_eta_min():
    total, eta_min = 10, 0.001
    rates = _trace(lr_scheduler.CosineAnnealingLR(_optimizer(), T_max=total, eta_min=eta_min), 11)
    expected = [
        eta_min + (BASE_LR - eta_min) * (1 + math.cos(math.pi * t / total)) / 2
        for t in range(total + 1)
    ]
    assert rates == pytest.approx(expected, abs=1e-12)
    assert rates[5] == pytest.approx((BASE_LR + eta_min) / 2)  # halfway: the mean
    assert rates[-1] == pytest.approx(eta_min)


def test_one_cycle_warms_up_to_max_lr_then_anneals_far_below_the_start():
    total, max_lr = 100, 1.0
    scheduler = lr_scheduler.OneCycleLR(
        _optimizer(),
        max_lr=max_lr,
        total_steps=total,
        pct_start=0.3,
        div_factor=25,
        final_div_factor=1e4,
    )
    momentum = []
    rates = []
    for _ in range(total):
        rates.append(scheduler.get_last_lr()[0])
        momentum.append(scheduler.optimizer.param_groups[0]["momentum"])
        scheduler.optimizer.step()
        scheduler.step()
    peak = rates.index(max(rates))
    assert rates[0] == pytest.approx(max_lr / 25)
    assert peak == 29 and rates[peak] == pytest.approx(max_lr)  # pct_start * total - 1
    assert rates[-1] == pytest.approx(max_lr / 25 / 1e4)
    assert all(a <= b for a, b in zip(rates[:peak], rates[1 : peak + 1], strict=True))
    assert all(a >= b for a, b in zip(rates[peak:-1], rates[peak + 1 :], strict=True))
    assert momentum[0] == pytest.approx(0.95) and momentum[peak] == pytest.approx(0.85)
    with pytest.raises(ValueError, match="Tried to step"):  # total_steps is a hard limit
        scheduler.step()


def test_linear_warm_up_then_cosine():
    warmup, total = 5, 25
    optimizer = _optimizer()
    scheduler = lr_scheduler.SequentialLR(
        optimizer,
        [
            lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup),
            lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup),
        ],
        milestones=[warmup],
    )
    rates = _trace(scheduler, total)
    assert rates[:warmup] == pytest.approx([BASE_LR * (0.1 + 0.9 * t / warmup) for t in range(5)])
    after = [BASE_LR * (1 + math.cos(math.pi * t / (total - warmup))) / 2 for t in range(20)]
    assert rates[warmup:] == pytest.approx(after)


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
