"""losses_per_step: lesson 5's loop, one loss per step, with clipping and a scheduler."""

import math

import pytest
import torch
from torch import nn

from widgets.step_experiments import losses_per_step


def _data():
    torch.manual_seed(0)
    inputs = torch.randn(50, 3)
    return inputs, (inputs[:, 0] > 0).long()


def _by_hand(inputs, targets, batch_size, steps, seed, clip_norm=None):
    """The same training written out again: the losses it must produce."""
    torch.manual_seed(1)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    while len(losses) < steps:
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(inputs) - batch_size + 1, batch_size):
            if len(losses) == steps:
                break
            batch = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(model(inputs[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            if clip_norm is not None:
                total = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
                for p in model.parameters():
                    p.grad *= min(1.0, clip_norm / (total.item() + 1e-6))
            optimizer.step()
            losses.append(loss.item())
    return losses


@pytest.mark.parametrize("clip_norm", [None, 0.1])
def test_losses_per_step_equals_the_loop_written_out(clip_norm):
    inputs, targets = _data()
    torch.manual_seed(1)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    # 50 images in batches of 16: 3 full batches per epoch, so 7 steps span three epochs.
    losses = losses_per_step(
        model, optimizer, inputs, targets, batch_size=16, steps=7, seed=4, clip_norm=clip_norm
    )
    assert len(losses) == 7
    assert losses == pytest.approx(_by_hand(inputs, targets, 16, 7, 4, clip_norm), rel=1e-5)


def test_a_scheduler_is_stepped_after_every_step():
    inputs, targets = _data()
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=10)
    losses_per_step(
        model, optimizer, inputs, targets, batch_size=10, steps=4, seed=0, scheduler=scheduler
    )
    assert scheduler.last_epoch == 4
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 + 0.9 * 4 / 10)


def test_a_diverging_run_ends_at_its_first_non_finite_loss():
    inputs, targets = _data()
    calls = []

    def loss_that_blows_up(outputs, labels):  # finite for three steps, then inf
        calls.append(1)
        scale = 1.0 if len(calls) <= 3 else math.inf
        return nn.functional.cross_entropy(outputs, labels) * scale

    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = losses_per_step(
        model,
        optimizer,
        inputs,
        targets,
        batch_size=10,
        steps=50,
        seed=0,
        loss_fn=loss_that_blows_up,
    )
    assert len(losses) == 4 and losses[-1] == math.inf
    assert all(math.isfinite(loss) for loss in losses[:-1])


def test_bad_batch_size_and_steps_are_named():
    inputs, targets = _data()
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        losses_per_step(model, optimizer, inputs, targets, batch_size=0, steps=1, seed=0)
    with pytest.raises(ValueError, match="steps"):
        losses_per_step(model, optimizer, inputs, targets, batch_size=5, steps=0, seed=0)
