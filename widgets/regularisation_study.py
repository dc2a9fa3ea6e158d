"""The pieces of lesson 6's overfitting study: noisy labels, augmentation, early stopping.

Lesson 6 shows these with ``show_source`` and runs its ablation with them (no cure, early
stopping, dropout, weight decay, augmentation, all together); ``tests/
test_regularisation_study.py`` checks each one against an independent computation.

* :func:`shuffle_labels` makes a training set that invites memorising: a fraction of its
  labels is shuffled among those images, so no rule can predict them;
* :func:`augment_images` is data augmentation on image tensors: a random horizontal flip
  and a random shift of a few pixels, independently for every image of a batch;
* :class:`AugmentedBatches` wraps any loader so that lesson 5's ``fit`` trains on
  augmented batches without a new loop;
* :func:`early_stopping_choice` says which epoch early stopping with a given patience
  would keep, read off a history that ``fit`` returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import torch
from torch.nn import functional


def shuffle_labels(labels: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """A copy of ``labels`` in which a random ``fraction`` of them is shuffled among itself.

    The class counts stay the same; which images are affected is decided by ``seed``.
    (A shuffled label can land on its own class by chance, so slightly fewer than
    ``fraction`` of the labels end up wrong.)
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction is a share of the labels, in [0, 1]; got {fraction!r}")
    generator = torch.Generator().manual_seed(seed)
    noisy = labels.clone()
    chosen = torch.randperm(len(labels), generator=generator)[: round(fraction * len(labels))]
    noisy[chosen] = labels[chosen[torch.randperm(len(chosen), generator=generator)]]
    return noisy


def augment_images(
    images: torch.Tensor,
    generator: torch.Generator,
    *,
    background: float,
    max_shift: int = 2,
    side: int = 28,
) -> torch.Tensor:
    """Each image flipped left-right with probability 1/2 and shifted by up to ``max_shift``.

    ``images`` are flat rows ``(N, side * side)`` (as the MLPs take them) or ``(N, 1, side,
    side)``; the result has the same shape. Pixels that a shift uncovers get ``background``
    (the standardised value of an empty pixel), not zero, which would be a grey frame.
    """
    if max_shift < 0:
        raise ValueError(f"max_shift is a number of pixels >= 0, got {max_shift!r}")
    n = len(images)
    if images[0].numel() != side * side:
        raise ValueError(
            f"expected grey {side}x{side} images ({side * side} values each), got a batch of "
            f"shape {tuple(images.shape)}"
        )
    pictures = images.reshape(n, 1, side, side)
    flip = torch.rand(n, generator=generator) < 0.5
    pictures = torch.where(flip[:, None, None, None], pictures.flip(-1), pictures)
    padded = functional.pad(pictures, [max_shift] * 4, value=background)
    # Every (side x side) window of the padded image, as a view; each image picks one.
    windows = padded.unfold(2, side, 1).unfold(3, side, 1)  # (n, 1, 2s+1, 2s+1, side, side)
    down = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    right = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    shifted = windows[torch.arange(n), 0, down, right]
    return shifted.reshape(images.shape)


class AugmentedBatches:
    """A loader whose batches are augmented on the fly; new random changes every epoch."""

    def __init__(self, loader: Iterable, *, background: float, seed: int, max_shift: int = 2):
        self.loader, self.background, self.max_shift = loader, background, max_shift
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for images, labels in self.loader:
            yield (
                augment_images(
                    images, self.generator, background=self.background, max_shift=self.max_shift
                ),
                labels,
            )

    def __len__(self) -> int:
        return len(self.loader)


def early_stopping_choice(history: Sequence[dict], patience: int) -> dict:
    """The epoch record early stopping keeps: the lowest validation loss seen until it stops.

    Training stops after ``patience`` epochs without a new lowest validation loss (as
    ``BestCheckpoint`` with ``fit``'s ``on_epoch_end`` does), and the best checkpoint is
    restored. Training is deterministic up to that point, so reading the choice off a
    longer run gives exactly what a run stopped early would have kept.
    """
    if patience < 1:
        raise ValueError(f"patience is a number of epochs >= 1, got {patience!r}")
    if not history or "val_loss" not in history[0]:
        raise ValueError("early stopping needs a history with validation losses (val_loss)")
    best, since_best = history[0], 0
    for record in history[1:]:
        if record["val_loss"] < best["val_loss"]:
            best, since_best = record, 0
        else:
            since_best += 1
            if since_best >= patience:
                break
    return best
