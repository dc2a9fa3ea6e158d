"""Training step by step, recording every step's loss: lesson 6's small experiments.

Batch norm, gradient clipping, warm-up and the batch size act on *individual steps*
(a spike, a divergence, how many steps an epoch has), which an epoch's average hides.
:func:`losses_per_step` is the standard loop of lesson 5 with two optional extras, a
gradient clip and a per-step scheduler, and it stops at the first loss that is not a
finite number (a diverged run). ``tests/test_step_experiments.py`` checks it.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def losses_per_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    batch_size: int,
    steps: int,
    seed: int,
    clip_norm: float | None = None,
    scheduler=None,
    loss_fn: nn.Module | None = None,
) -> list[float]:
    """Train for ``steps`` mini-batch steps (reshuffling every epoch); each step's loss.

    ``clip_norm`` rescales the gradient before each step so that its total norm is at
    most ``clip_norm`` (``nn.utils.clip_grad_norm_``); ``scheduler`` is stepped after
    every step. The list ends early, with the non-finite value, when the run diverges.
    """
    if not 1 <= batch_size <= len(inputs):
        raise ValueError(f"batch_size must be in 1..{len(inputs)}, got {batch_size!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.train()
    losses: list[float] = []
    while True:
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(inputs) - batch_size + 1, batch_size):  # full batches only
            batch = order[start : start + batch_size]
            loss = loss_fn(model(inputs[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            losses.append(loss.item())
            if not math.isfinite(losses[-1]) or len(losses) == steps:
                return losses
