"""Images on disk as a PyTorch ``Dataset``: one sub-folder per class.

The layout is the one most image collections already have, and the one torchvision's
``datasets.ImageFolder`` reads::

    root/
        0-t-shirt-top/   00001.png 00002.png ...
        1-trouser/       ...

Classes are numbered in the sorted order of their folder names, which is why the
exported Fashion-MNIST folders start with their label: ``0-...`` to ``9-...``.
:class:`ImageFolderDataset` is torchvision's ``ImageFolder`` with what a course needs on
top: one colour mode for every image (16-bit greyscale scaled, not clipped), hidden
files and folders skipped, and errors that name the file and say how to fix it. Point it
at your own folder of photos and it works the same. Lesson 6 writes such a ``Dataset``
by hand, to show what ``ImageFolder`` does.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision import datasets
from torchvision.transforms import v2

# The data module owns the datasets on disk and their atomic folder writes.
from widgets.data import CLASS_NAMES, data_root, load_numpy, replace_dir, staging_dir

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
PNG_EXPORT_FOLDER = "fashion-mnist-png"
COLOUR_MODES = {"L": "greyscale", "RGB": "colour"}
# PIL's modes for 16-bit greyscale (PNG, TIFF); "I" is 32-bit, used by older Pillow for PNGs.
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")

# What the model sees by default: a plain float tensor (channels, height, width) in [0, 1].
TO_FLOAT_TENSOR = v2.Compose(
    [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.ToPureTensor()]
)


class CorruptImageError(OSError):
    """An image file exists but cannot be decoded; the message names the file."""


def colour_mode(mode: str) -> str:
    """``"L"`` or ``"RGB"`` for any spelling of them (``"rgb"``), else a ValueError."""
    normalised = str(mode).upper()
    if normalised not in COLOUR_MODES:
        choices = " or ".join(f"{name!r} ({kind})" for name, kind in COLOUR_MODES.items())
        raise ValueError(f"mode must be {choices}, got {mode!r}")
    return normalised


def _to_eight_bit_grey(image: Image.Image) -> Image.Image:
    """A 16-bit greyscale image as 8-bit "L", scaled (65535 -> 255) instead of clipped."""
    pixels = np.asarray(image, dtype=np.float64)
    return Image.fromarray(np.rint(pixels * (255 / 65535)).clip(0, 255).astype(np.uint8), "L")


def load_image(path: str | os.PathLike, mode: str = "L") -> Image.Image:
    """Decode one file fully (PIL opens lazily) and convert it to ``mode`` ("L" or "RGB").

    Raises :class:`CorruptImageError` naming the file when it cannot be decoded.
    """
    mode = colour_mode(mode)
    try:
        with Image.open(path) as image:
            image.load()  # the full decode: a truncated file fails here, not later
            sixteen_bit = image.mode in _SIXTEEN_BIT_MODES or (
                image.mode == "I" and image.format == "PNG"
            )
            if sixteen_bit:
                image = _to_eight_bit_grey(image)
            converted = image.convert(mode)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise CorruptImageError(
            f"cannot read image {path}: {error}. Delete or replace this file "
            "(or move it out of the class folder) and run again."
        ) from None
    except ValueError as error:  # decoded, but PIL has no conversion (e.g. from "LAB")
        raise ValueError(
            f"cannot convert image {path} to {COLOUR_MODES[mode]} ({mode}): {error}. Save it "
            "as an ordinary greyscale or RGB image, or move it out of the class folder."
        ) from None
    return converted


def _is_visible_image(class_folders_root: str, path: str) -> bool:
    """An image file (by suffix) with no hidden file or folder on its way from the root."""
    relative = Path(os.path.relpath(path, class_folders_root))
    hidden = any(part.startswith(".") for part in relative.parts)
    return not hidden and relative.suffix.lower() in IMAGE_SUFFIXES and os.path.isfile(path)


class ImageFolderDataset(datasets.ImageFolder):
    """Every image under ``root/<class>/``, labelled with its folder's index.

    ``mode`` is the colour mode each image is converted to ("L" greyscale, "RGB"; any
    case), so a folder mixing greyscale and colour files still gives tensors of one shape.
    ``transform`` takes the PIL image and returns what the model sees (default:
    :data:`TO_FLOAT_TENSOR`, a float tensor in [0, 1]); ``target_transform`` maps the
    class index. ``samples`` lists ``(path, class index)`` pairs in sorted order.
    """

    def __init__(self, root, transform=None, target_transform=None, *, mode: str = "L"):
        self.mode = colour_mode(mode)
        root = Path(root).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(
                f"{root} is not a folder. Expected one sub-folder per class with the "
                "images inside, e.g. root/cat/001.png and root/dog/002.jpg"
            )
        super().__init__(
            root,
            transform=transform or TO_FLOAT_TENSOR,
            target_transform=target_transform,
            loader=functools.partial(load_image, mode=self.mode),
            is_valid_file=functools.partial(_is_visible_image, str(root)),
            allow_empty=True,  # one empty class folder is fine; no images at all is not
        )
        if not self.samples:
            raise ValueError(
                f"no images in the class folders of {root} (looked for {', '.join(IMAGE_SUFFIXES)})"
            )
        self.samples = [(Path(path), label) for path, label in self.samples]
        self.imgs = self.samples  # torchvision's other name for the same list

    def find_classes(self, directory) -> tuple[list[str], dict[str, int]]:
        """The class folders in sorted order, skipping hidden ones (``.ipynb_checkpoints``)."""
        classes = sorted(
            entry.name
            for entry in os.scandir(directory)
            if entry.is_dir() and not entry.name.startswith(".")
        )
        if not classes:
            raise ValueError(
                f"{directory} has no class sub-folders. Put each class's images in its own "
                f"folder: {directory}/<class name>/<image>.png"
            )
        return classes, {name: index for index, name in enumerate(classes)}

    def load_image(self, path):
        """One file as a PIL image in the dataset's colour mode (see :func:`load_image`)."""
        return load_image(path, self.mode)

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
