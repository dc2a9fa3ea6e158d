"""The pieces of lesson 6's transfer-learning experiment.

A network pretrained on clean Fashion-MNIST meets the same classes through a noisy
"sensor" (a domain shift) with only k labelled images per class, and is reused three
ways: frozen features (a new last layer only), fine-tuning (everything, the pretrained
layers with a smaller learning rate) and, as the baseline, training from scratch.
Lesson 6 shows these functions; ``tests/test_transfer.py`` checks them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

TRANSFER_MODES = ("from scratch", "frozen features", "fine-tuning", "fine-tuning, one rate")


def sensor_noise(images: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """``images`` as a noisy sensor sees them: Gaussian noise of std ``sigma`` on every pixel.

    In the standardised units of the inputs (pixel standard deviation 1), so ``sigma=1.5``
    is noise stronger than the picture's own contrast. The noise is fixed by ``seed``:
    an image keeps its noise across epochs, as a recorded photo would.
    """
    if sigma < 0:
        raise ValueError(f"sigma is a standard deviation >= 0, got {sigma!r}")
    generator = torch.Generator().manual_seed(seed)
    return images + sigma * torch.randn(images.shape, generator=generator)


def first_per_class(
    labels: torch.Tensor, per_class: int, classes: Sequence[int], skip: int = 0
) -> torch.Tensor:
    """Indices of ``per_class`` images of each class in ``classes``, after skipping ``skip``.

    The few labelled images of a small task; ``skip`` picks another set of the same size.
    """
    picked = []
    for label in classes:
        found = torch.nonzero(labels == label).flatten()[skip : skip + per_class]
        if len(found) < per_class:
            raise ValueError(
                f"class {label} has only {len(found)} images after skipping {skip}; "
                f"{per_class} were asked for"
            )
        picked.append(found)
    return torch.cat(picked)


def transfer_model(
    body: nn.Module,
    head: nn.Module,
    mode: str,
    *,
    lr: float,
    pretrained: dict | None = None,
    body_lr_factor: float = 0.1,
) -> tuple[nn.Sequential, torch.optim.Optimizer]:
    """``body`` + ``head`` and an Adam optimizer set up for one of :data:`TRANSFER_MODES`.

    * ``"from scratch"``: ``body`` keeps its random weights; everything trains at ``lr``;
    * ``"frozen features"``: ``pretrained`` weights are loaded into ``body`` and frozen
      (no gradients, so nothing moves them); only the head trains;
    * ``"fine-tuning"``: everything trains, the pretrained body at ``lr * body_lr_factor``:
      its features are already useful, and large steps computed from a few labels would
      overwrite them before the new head has learned to use them;
    * ``"fine-tuning, one rate"``: the same with one rate for all, to show why not.
    """
    if mode not in TRANSFER_MODES:
        raise ValueError(f"mode must be one of {TRANSFER_MODES}, got {mode!r}")
    if mode != "from scratch":
        if pretrained is None:
            raise ValueError(f"mode {mode!r} needs the pretrained weights of the body")
        body.load_state_dict(pretrained)
    model = nn.Sequential(body, head)
    if mode == "frozen features":
        body.requires_grad_(False)
        groups = [{"params": head.parameters()}]
    elif mode == "fine-tuning":
        groups = [
            {"params": body.parameters(), "lr": lr * body_lr_factor},
            {"params": head.parameters()},
        ]
    else:
        groups = [{"params": model.parameters()}]
    return model, torch.optim.Adam(groups, lr=lr)
