"""Reading the datasets' files, and refusing any file that is not what it should be.

MNIST and Fashion-MNIST come as IDX files (a header of dimensions, then unsigned bytes);
CIFAR-10 as Python pickles of NumPy arrays. A damaged or wrong file must fail here, with
its name and what is wrong, not later inside a lesson (``widgets.data`` adds the fix).
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import struct
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------- IDX files
# MNIST and Fashion-MNIST: 28x28 grey images, labels 0..9. A file with another shape or
# label is structurally valid IDX but would crash (or silently mislead) a lesson later.
IDX_IMAGE_SHAPE = (28, 28)
N_CLASSES = 10


def idx_shape(path: Path) -> tuple[int, ...]:
    """Check an IDX file's header against its size and return the array shape it holds.

    Raises ValueError naming the file when it is truncated, padded or not IDX at all.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.read(4)
        if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] != 0x08:
            raise ValueError(f"{path} is not an IDX file of unsigned bytes (bad magic number)")
        ndim = header[3]
        dims_raw = handle.read(4 * ndim)
    if ndim == 0:
        raise ValueError(f"{path} is an IDX file with no dimensions: it holds no items")
    if len(dims_raw) < 4 * ndim:
        raise ValueError(f"{path} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", dims_raw)
    expected = 4 + 4 * ndim + math.prod(dims)
    if size != expected:
        raise ValueError(
            f"{path} has {size} bytes but its header ({' x '.join(map(str, dims))}) "
            f"promises {expected}: the file is truncated or corrupt"
        )
    return dims


def check_idx_file(path: Path) -> int:
    """Check an IDX file's header against its size (see :func:`idx_shape`); the item count."""
    return idx_shape(path)[0]


def read_idx(path: Path) -> np.ndarray:
    """Read a verified IDX file of unsigned bytes into a numpy array."""
    dims = idx_shape(path)
    return np.fromfile(path, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def check_idx_folder(raw: Path) -> None:
    """Check all four IDX files of a dataset folder: headers, sizes, shapes, labels, counts."""
    for split in ("train", "t10k"):
        images = raw / f"{split}-images-idx3-ubyte"
        labels = raw / f"{split}-labels-idx1-ubyte"
        image_shape, label_shape = idx_shape(images), idx_shape(labels)
        if image_shape[1:] != IDX_IMAGE_SHAPE:
            raise ValueError(
                f"{images} holds items of shape {' x '.join(map(str, image_shape[1:])) or '()'}, "
                f"not the {IDX_IMAGE_SHAPE[0]} x {IDX_IMAGE_SHAPE[1]} images of this dataset"
            )
        if len(label_shape) != 1:
            raise ValueError(
                f"{labels} holds a {' x '.join(map(str, label_shape))} array, not one label "
                "per image"
            )
        if image_shape[0] != label_shape[0]:
            raise ValueError(f"{raw}: {image_shape[0]} {split} images but {label_shape[0]} labels")
        largest = int(read_idx(labels).max(initial=0))
        if largest >= N_CLASSES:
            raise ValueError(
                f"{labels} has label {largest}, but the dataset's classes are 0..{N_CLASSES - 1}"
            )


# --------------------------------------------------------------------------- CIFAR-10
CIFAR_IMAGE_SIZE = 3 * 32 * 32
# What a CIFAR-10 batch pickle may build besides plain values: NumPy arrays, in the forms
# NumPy 1 and 2 pickle them. Anything else is refused (unpickling can run code).
_CIFAR_PICKLE_GLOBALS = {
    (module, name)
    for core in ("numpy.core", "numpy._core")
    for module, name in (
        (f"{core}.multiarray", "_reconstruct"),
        (f"{core}.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    )
}


class _CifarUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _CIFAR_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(
                f"it refers to {module}.{name}, which a CIFAR-10 batch never holds"
            )
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch file as ``(images uint8 (N, 32, 32, 3), labels int64 (N,))``.

    The pickle may hold only plain values and NumPy arrays, with a ``data`` entry of N rows
    of 3072 bytes and a ``labels`` entry of N labels in 0..9; anything else raises
    ValueError naming the file and what is wrong with it.
    """
    payload = Path(path).read_bytes()
    try:
        # A walk over the opcodes first: a damaged length field then fails as "only N bytes
        # remain" instead of making the unpickler allocate the 2**56 bytes it claims.
        for _ in pickletools.genops(payload):
            pass
        batch = _CifarUnpickler(io.BytesIO(payload), encoding="latin1").load()
    except KeyboardInterrupt:
        raise
    except Exception as error:  # damaged pickles fail in many ways: all mean "not a batch"
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        raise ValueError(f"{path} is not a readable CIFAR-10 batch ({reason})") from None
    if not isinstance(batch, dict) or not {"data", "labels"} <= batch.keys():
        found = sorted(map(str, batch)) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(
            f"{path} is not a CIFAR-10 batch: expected a dict with 'data' and 'labels', "
            f"found {found}"
        )
    try:
        data = np.asarray(batch["data"])
        labels = np.asarray(batch["labels"])
    except (TypeError, ValueError) as error:  # ragged nested lists, for example
        raise ValueError(f"{path}: its 'data' or 'labels' is not an array ({error})") from None
    if data.ndim != 2 or data.shape[1] != CIFAR_IMAGE_SIZE or data.dtype.kind not in "iu":
        raise ValueError(
            f"{path}: 'data' is a {data.dtype} array of shape {data.shape}, expected whole "
            f"numbers of shape (N, {CIFAR_IMAGE_SIZE}): N images of 3 x 32 x 32 bytes"
        )
    if data.size and (data.min() < 0 or data.max() > 255):
        raise ValueError(f"{path}: 'data' has values outside 0..255, so they are not pixels")
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"{path}: 'labels' is a {labels.dtype} array of shape {labels.shape}, expected "
            f"{len(data)} whole numbers, one per image"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise ValueError(
            f"{path}: 'labels' has values {labels.min()}..{labels.max()}, but CIFAR-10's "
            f"classes are 0..{N_CLASSES - 1}"
        )
    images = data.astype(np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels.astype(np.int64)
