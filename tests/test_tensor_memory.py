"""Turning images into training tensors without full-size temporaries (Binder has 2 GB),
and with exactly the numbers the straightforward formulas give."""

import tracemalloc

import numpy as np
import torch

from widgets import torch_training


def images(n=6000, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def test_pixel_statistics_equal_the_float64_formula_exactly():
    batch = images()
    mean = batch.mean(dtype=np.float64)
    variance = np.mean(np.square(batch, dtype=np.float64)) - mean**2
    assert torch_training.pixel_statistics(batch) == (
        float(mean / 255.0),
        float(np.sqrt(variance) / 255.0),
    )


def test_pixel_statistics_never_hold_a_float64_copy_of_the_images():
    batch = images()
    tracemalloc.start()
    torch_training.pixel_statistics(batch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full_float64_copy = batch.size * 8
    assert peak < full_float64_copy / 10, f"peak {peak} bytes"


def test_tensors_are_bitwise_those_of_the_out_of_place_formula():
    batch, labels = images(), np.arange(6000, dtype=np.int64) % 10
    statistics = torch_training.pixel_statistics(batch)
    X, y = torch_training._as_tensors(batch, labels, statistics, flatten=True)
    mean, std = statistics
    expected = (torch.from_numpy(batch.astype(np.float32) / 255.0) - mean) / std
    assert X.dtype == torch.float32 and X.shape == (6000, 784)
    assert torch.equal(X, expected.reshape(6000, -1))
    assert torch.equal(y, torch.from_numpy(labels))


def test_only_one_float32_copy_of_the_images_is_made_in_numpy():
    batch, labels = images(), np.zeros(6000, dtype=np.int64)
    tracemalloc.start()
    torch_training._as_tensors(batch, labels, (0.5, 0.25), flatten=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    one_float32_copy = batch.size * 4
    assert peak < 1.2 * one_float32_copy, f"peak {peak} bytes"
