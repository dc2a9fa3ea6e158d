"""Lesson 6's overfitting study: noisy labels, augmentation and early stopping."""

import pytest
import torch

from widgets.regularisation_study import (
    AugmentedBatches,
    augment_images,
    early_stopping_choice,
    shuffle_labels,
)


def test_shuffle_labels_keeps_class_counts_and_touches_only_the_fraction():
    labels = torch.arange(1000) % 10
    noisy = shuffle_labels(labels, fraction=0.4, seed=3)
    assert torch.equal(torch.bincount(noisy), torch.bincount(labels))
    changed = (noisy != labels).float().mean().item()
    # 400 labels are shuffled; about 1 in 10 lands on its own class again by chance.
    assert 0.3 < changed <= 0.4
    assert torch.equal(noisy, shuffle_labels(labels, fraction=0.4, seed=3))
    assert not torch.equal(noisy, shuffle_labels(labels, fraction=0.4, seed=4))
    assert torch.equal(labels, torch.arange(1000) % 10)  # the input is not modified
    assert torch.equal(shuffle_labels(labels, fraction=0.0, seed=3), labels)


def test_shuffle_labels_rejects_a_fraction_outside_0_1():
    with pytest.raises(ValueError, match="fraction"):
        shuffle_labels(torch.zeros(5, dtype=torch.long), fraction=1.5, seed=0)


def _by_hand(picture, flip, down, right, background, shift):
    """One image flipped and shifted with explicit loops over pixels (independent of unfold)."""
    side = picture.shape[-1]
    source = picture.flip(-1) if flip else picture
    out = torch.full_like(picture, background)
    for row in range(side):
        for column in range(side):
            from_row, from_column = row + down - shift, column + right - shift
            if 0 <= from_row < side and 0 <= from_column < side:
                out[row, column] = source[from_row, from_column]
    return out


def test_augment_images_flips_and_shifts_each_image_as_its_random_draws_say():
    torch.manual_seed(0)
    images = torch.randn(6, 8 * 8)
    augmented = augment_images(
        images, torch.Generator().manual_seed(5), background=-1.0, max_shift=2, side=8
    )
    # Replay the same draws in the same order as augment_images makes them.
    replay = torch.Generator().manual_seed(5)
    flips = torch.rand(6, generator=replay) < 0.5
    downs = torch.randint(0, 5, (6,), generator=replay)
    rights = torch.randint(0, 5, (6,), generator=replay)
    assert augmented.shape == images.shape
    for i in range(6):
        expected = _by_hand(
            images[i].reshape(8, 8), bool(flips[i]), int(downs[i]), int(rights[i]), -1.0, 2
        )
        assert torch.equal(augmented[i].reshape(8, 8), expected)
    assert not torch.equal(augmented, images)


def test_augment_images_without_shift_only_flips_and_keeps_image_shape():
    images = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    out = augment_images(images, torch.Generator().manual_seed(0), background=0.0, max_shift=0)
    assert out.shape == (2, 1, 28, 28)
    for original, changed in zip(images, out, strict=True):
        assert torch.equal(changed, original) or torch.equal(changed, original.flip(-1))


def test_augment_images_names_a_wrong_image_size():
    with pytest.raises(ValueError, match="28x28"):
        augment_images(torch.zeros(3, 100), torch.Generator(), background=0.0)


def test_augmented_batches_change_every_epoch_and_keep_the_labels():
    batches = [(torch.randn(4, 784), torch.tensor([0, 1, 2, 3]))]
    loader = AugmentedBatches(batches, background=0.0, seed=1)
    first, second = list(loader), list(loader)
    assert len(loader) == 1
    assert torch.equal(first[0][1], batches[0][1])
    assert not torch.equal(first[0][0], second[0][0])


def _history(val_losses):
    return [{"epoch": i + 1, "val_loss": v, "val_acc": -v} for i, v in enumerate(val_losses)]


def test_early_stopping_choice_stops_after_patience_epochs_without_a_new_lowest():
    history = _history([1.0, 0.8, 0.9, 0.85, 0.95, 0.5])
    # The lowest after epoch 2 never comes within 3 epochs: stop, keep epoch 2.
    assert early_stopping_choice(history, patience=3)["epoch"] == 2
    # With more patience, the late improvement at epoch 6 is reached.
    assert early_stopping_choice(history, patience=4)["epoch"] == 6
    assert early_stopping_choice(_history([0.3]), patience=1)["epoch"] == 1


def test_early_stopping_choice_refuses_bad_input():
    with pytest.raises(ValueError, match="patience"):
        early_stopping_choice(_history([1.0]), patience=0)
    with pytest.raises(ValueError, match="val_loss"):
        early_stopping_choice([{"epoch": 1, "loss": 1.0}], patience=2)
