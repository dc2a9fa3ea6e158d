"""Images on disk as a PyTorch ``Dataset``: one sub-folder per class.

The layout is the one most image collections already have (and torchvision's
``ImageFolder`` reads too)::

    root/
        0-t-shirt-top/   00001.png 00002.png ...
        1-trouser/       ...

Classes are numbered in the sorted order of their folder names, which is why the
exported Fashion-MNIST folders start with their label: ``0-...`` to ``9-...``.
Point :class:`ImageFolderDataset` at your own folder of photos and it works the same.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

# The data module owns the datasets on disk and their atomic folder writes.
from widgets.data import CLASS_NAMES, data_root, load_numpy, replace_dir, staging_dir

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
PNG_EXPORT_FOLDER = "fashion-mnist-png"


class CorruptImageError(OSError):
    """An image file exists but cannot be decoded; the message names the file."""


def pil_to_tensor(image) -> torch.Tensor:
    """A PIL image as a float tensor (channels, height, width) with values in [0, 1]."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    if array.ndim == 2:  # greyscale: add the channel axis every conv/linear layer expects
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array))


class ImageFolderDataset(Dataset):
    """Every image under ``root/<class>/``, labelled with its folder's index.

    ``mode`` is the PIL colour mode each image is converted to ("L" greyscale, "RGB"),
    so a folder mixing greyscale and colour files still gives tensors of one shape.
    ``transform`` takes the PIL image and returns what the model sees (default: a
    float tensor in [0, 1]); ``target_transform`` maps the class index.
    """

    def __init__(self, root, transform=None, target_transform=None, *, mode: str = "L"):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"{self.root} is not a folder. Expected one sub-folder per class with the "
                "images inside, e.g. root/cat/001.png and root/dog/002.jpg"
            )
        self.classes = sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir() and not entry.name.startswith(".")
        )
        if not self.classes:
            raise ValueError(
                f"{self.root} has no class sub-folders. Put each class's images in its own "
                f"folder: {self.root}/<class name>/<image>.png"
            )
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        self.samples: list[tuple[Path, int]] = [
            (path, self.class_to_idx[name])
            for name in self.classes
            for path in sorted((self.root / name).iterdir())
            if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")
        ]
        if not self.samples:
            raise ValueError(
                f"no images in the class folders of {self.root} "
                f"(looked for {', '.join(IMAGE_SUFFIXES)})"
            )
        self.transform = transform or pil_to_tensor
        self.target_transform = target_transform
        self.mode = mode

    def __len__(self) -> int:
        return len(self.samples)

    def load_image(self, path: Path):
        """Decode one file fully (PIL opens lazily), naming the file if it is broken."""
        try:
            with Image.open(path) as image:
                return image.convert(self.mode)  # convert() forces the full decode
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise CorruptImageError(
                f"cannot read image {path}: {error}. Delete or replace this file "
                "(or move it out of the class folder) and run again."
            ) from None

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        image = self.transform(self.load_image(path))
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def class_counts(self) -> dict[str, int]:
        """How many images each class has (unbalanced classes are worth knowing about)."""
        counts = dict.fromkeys(self.classes, 0)
        for _, label in self.samples:
            counts[self.classes[label]] += 1
        return counts


def pad_collate(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack images of different sizes by zero-padding each to the batch's largest size.

    The default ``collate_fn`` calls ``torch.stack``, which fails as soon as two images
    in a batch differ in size, as photos from a phone and a scanner will. Padding
    (bottom and right) keeps every pixel; resizing in the transform is the alternative.
    """
    if not batch:
        raise ValueError("pad_collate got an empty batch")
    images, labels = zip(*batch, strict=True)
    channels = {image.shape[0] for image in images}
    if len(channels) > 1:
        raise ValueError(
            f"images in one batch have different channel counts {sorted(channels)}: "
            "give the dataset one colour mode (mode='L' or mode='RGB')"
        )
    height = max(image.shape[1] for image in images)
    width = max(image.shape[2] for image in images)
    padded = images[0].new_zeros((len(images), images[0].shape[0], height, width))
    for slot, image in zip(padded, images, strict=True):
        slot[:, : image.shape[1], : image.shape[2]] = image
    return padded, torch.as_tensor(labels)


# --------------------------------------------------------------------------- PNG export
def class_folder_name(label: int, class_name: str) -> str:
    """``3, "Dress"`` -> ``"3-dress"``: the label first, so sorted order is label order."""
    slug = re.sub(r"[^a-z0-9]+", "-", class_name.lower()).strip("-")
    return f"{label}-{slug}"


def export_fashion_mnist_pngs(
    per_class: int = 100, split: str = "train", destination: Path | None = None
) -> Path:
    """Write the first ``per_class`` Fashion-MNIST images of each class as PNG files.

    Returns ``<destination>/<split>-<per_class>/``, one folder per class; the
    destination defaults to ``<data root>/fashion-mnist-png``.
    Idempotent: an existing complete export is reused as it is. Atomic: the files are
    written into a temporary folder that is renamed into place when complete, so an
    interrupted export never leaves a half-filled folder behind.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, not {per_class}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    destination = Path(destination) if destination else data_root() / PNG_EXPORT_FOLDER
    target = destination / f"{split}-{per_class}"
    names = CLASS_NAMES["fashion-mnist"]
    folders = [class_folder_name(label, name) for label, name in enumerate(names)]
    if _export_is_complete(target, folders, per_class):
        return target
    images, labels = load_numpy("fashion-mnist", split, fallback=False)
    with staging_dir(target) as staged:
        for label, folder in enumerate(folders):
            (staged / folder).mkdir()
            indices = np.flatnonzero(labels == label)[:per_class]
            if len(indices) < per_class:
                raise ValueError(
                    f"the {split} split has only {len(indices)} images of class {label}, "
                    f"fewer than per_class={per_class}"
                )
            for index in indices:  # the file name is the image's index in the split
                Image.fromarray(images[index]).save(staged / folder / f"{index:05d}.png")
        replace_dir(staged, target)
    return target


def _export_is_complete(target: Path, folders: list[str], per_class: int) -> bool:
    try:
        return all(
            sum(1 for name in os.listdir(target / folder) if name.endswith(".png")) == per_class
            for folder in folders
        )
    except OSError:
        return False
