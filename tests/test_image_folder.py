"""The folder-of-images Dataset, its padding collate_fn and the Fashion-MNIST PNG export."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from widgets import image_folder
from widgets.data import load_numpy
from widgets.image_folder import (
    CorruptImageError,
    ImageFolderDataset,
    class_folder_name,
    export_fashion_mnist_pngs,
    pad_collate,
)


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


@pytest.fixture
def tiny_folder(tmp_path):
    """dog/ holds two greyscale PNGs and a colour JPEG, cat/ one PNG, plus files to skip."""
    root = tmp_path / "pets"
    _write(root / "dog" / "a.png", np.full((4, 5), 255))
    _write(root / "dog" / "b.png", np.zeros((4, 5)))
    _write(root / "dog" / "c.jpg", np.full((4, 5, 3), 128))
    _write(root / "cat" / "x.png", np.arange(20).reshape(4, 5))
    (root / "cat" / "notes.txt").write_text("not an image")
    _write(root / "cat" / ".hidden.png", np.zeros((4, 5)))
    (root / ".ipynb_checkpoints").mkdir()
    return root


def test_classes_come_from_sorted_folder_names(tiny_folder):
    dataset = ImageFolderDataset(tiny_folder)
    assert dataset.classes == ["cat", "dog"]
    assert dataset.class_to_idx == {"cat": 0, "dog": 1}
    assert [(path.name, label) for path, label in dataset.samples] == [
        ("x.png", 0),
        ("a.png", 1),
        ("b.png", 1),
        ("c.jpg", 1),
    ]
    assert len(dataset) == 4
    assert dataset.class_counts() == {"cat": 1, "dog": 3}


def test_items_are_float_tensors_in_unit_range(tiny_folder):
    dataset = ImageFolderDataset(tiny_folder)
    image, label = dataset[1]
    assert label == 1
    assert image.dtype == torch.float32 and image.shape == (1, 4, 5)
    assert torch.all(image == 1.0)
    cat, _ = dataset[0]
    assert cat[0, 0, 1].item() == pytest.approx(1 / 255)
    jpeg, _ = dataset[3]  # a colour file converted to the dataset's mode, greyscale
    assert jpeg.shape == (1, 4, 5)
    rgb = ImageFolderDataset(tiny_folder, mode="RGB")
    assert rgb[0][0].shape == (3, 4, 5)


@pytest.mark.parametrize("mode", ["rgb", "Rgb", "RGB"])
def test_rgb_mode_in_any_case_reads_valid_images(tiny_folder, mode):
    dataset = ImageFolderDataset(tiny_folder, mode=mode)
    images = [dataset[index][0] for index in range(len(dataset))]
    assert [tuple(image.shape) for image in images] == [(3, 4, 5)] * 4
    assert torch.all(images[1] == 1.0)  # the white greyscale PNG, in three channels


def test_an_unknown_mode_is_refused_when_the_dataset_is_made(tiny_folder):
    with pytest.raises(ValueError, match=r"mode must be 'L' \(greyscale\) or 'RGB'"):
        ImageFolderDataset(tiny_folder, mode="CMYK")


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_sixteen_bit_greyscale_pngs_are_scaled_not_clipped(tmp_path, mode):
    levels = np.array([[0, 257, 40000, 65535]], dtype=np.uint16)
    (tmp_path / "scans").mkdir()
    Image.fromarray(levels).save(tmp_path / "scans" / "deep.png")
    assert Image.open(tmp_path / "scans" / "deep.png").mode.startswith("I")  # really 16-bit
    image, _ = ImageFolderDataset(tmp_path, mode=mode)[0]
    expected = torch.tensor(levels / 65535, dtype=torch.float32).expand(image.shape)
    # 8 bits per pixel after conversion: within half a grey level of the 16-bit value
    assert torch.allclose(image, expected, atol=0.5 / 255)
    assert image.max().item() == 1.0 and 0.60 < image[0, 0, 2].item() < 0.62


def test_folders_and_hidden_files_are_not_images(tiny_folder):
    (tiny_folder / "dog" / "album.png").mkdir()  # a folder with an image's name
    _write(tiny_folder / "dog" / ".ipynb_checkpoints" / "a-checkpoint.png", np.zeros((4, 5)))
    names = [path.name for path, _ in ImageFolderDataset(tiny_folder).samples]
    assert names == ["x.png", "a.png", "b.png", "c.jpg"]


def test_the_default_transform_gives_plain_float_tensors(tiny_folder):
    image, _ = ImageFolderDataset(tiny_folder)[0]
    assert type(image) is torch.Tensor and image.dtype == torch.float32
    # torchvision's pil_to_tensor keeps uint8; no function here shares its name
    assert not hasattr(image_folder, "pil_to_tensor")


def test_transforms_are_applied(tiny_folder):
    dataset = ImageFolderDataset(
        tiny_folder,
        transform=lambda image: torch.tensor(image.size),  # PIL gives (width, height)
        target_transform=lambda label: label * 10,
    )
    assert dataset[2][0].tolist() == [5, 4]
    assert dataset[2][1] == 10


def test_a_corrupt_image_error_names_the_file(tiny_folder):
    broken = tiny_folder / "cat" / "broken.png"
    broken.write_bytes(b"this is not a png")
    truncated = tiny_folder / "dog" / "truncated.png"
    _write(truncated, np.random.default_rng(0).integers(0, 255, (64, 64)))
    truncated.write_bytes(truncated.read_bytes()[:-200])

    dataset = ImageFolderDataset(tiny_folder)
    for path in (broken, truncated):
        index = [p for p, _ in dataset.samples].index(path)
        with pytest.raises(CorruptImageError, match="cannot read image") as error:
            dataset[index]
        assert str(path) in str(error.value)
        assert "Delete or replace" in str(error.value)
    with pytest.raises(CorruptImageError, match="broken.png"):  # also through a DataLoader
        list(DataLoader(dataset, batch_size=2))


def test_bad_roots_explain_the_expected_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match="one sub-folder per class"):
        ImageFolderDataset(tmp_path / "missing")
    (tmp_path / "flat").mkdir()
    _write(tmp_path / "flat" / "a.png", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="no class sub-folders"):
        ImageFolderDataset(tmp_path / "flat")
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images"):
        ImageFolderDataset(tmp_path / "empty")


def test_pad_collate_pads_to_the_largest_image():
    small = torch.ones(1, 2, 3)
    tall = torch.full((1, 4, 2), 2.0)
    images, labels = pad_collate([(small, 0), (tall, 1)])
    assert images.shape == (2, 1, 4, 3)
    assert labels.tolist() == [0, 1]
    assert torch.equal(images[0, :, :2, :3], small)
    assert images[0, :, 2:, :].abs().sum() == 0  # the padding is zeros
    assert torch.equal(images[1, :, :, :2], tall)
    assert images[1, :, :, 2].abs().sum() == 0
    with pytest.raises(ValueError, match="channel counts"):
        pad_collate([(torch.ones(1, 2, 2), 0), (torch.ones(3, 2, 2), 1)])


def test_default_collate_fails_on_mixed_sizes_and_pad_collate_does_not(tmp_path):
    _write(tmp_path / "a" / "small.png", np.zeros((4, 4)))
    _write(tmp_path / "a" / "large.png", np.zeros((6, 8)))
    dataset = ImageFolderDataset(tmp_path)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        next(iter(DataLoader(dataset, batch_size=2)))
    images, labels = next(iter(DataLoader(dataset, batch_size=2, collate_fn=pad_collate)))
    assert images.shape == (2, 1, 6, 8) and labels.tolist() == [0, 0]


def test_class_folder_names_sort_in_label_order():
    assert class_folder_name(0, "T-shirt/top") == "0-t-shirt-top"
    assert class_folder_name(9, "Ankle boot") == "9-ankle-boot"


def test_export_writes_the_right_images_once(tmp_path):
    target = export_fashion_mnist_pngs(per_class=3, split="test", destination=tmp_path)
    assert target == tmp_path / "test-3"
    folders = sorted(p.name for p in target.iterdir())
    assert folders[0] == "0-t-shirt-top" and folders[9] == "9-ankle-boot" and len(folders) == 10

    images, labels = load_numpy("fashion-mnist", "test")
    dataset = ImageFolderDataset(target)
    assert len(dataset) == 30
    for path, label in dataset.samples:
        index = int(path.stem)  # the file name is the image's index in the split
        assert labels[index] == label
        assert np.array_equal(np.asarray(Image.open(path)), images[index])
    first_of_class_2 = int(np.flatnonzero(labels == 2)[0])
    assert (target / "2-pullover" / f"{first_of_class_2:05d}.png").exists()

    stamp = (target / "0-t-shirt-top").stat().st_mtime_ns
    assert export_fashion_mnist_pngs(per_class=3, split="test", destination=tmp_path) == target
    assert (target / "0-t-shirt-top").stat().st_mtime_ns == stamp  # reused, not rewritten


def test_an_interrupted_export_leaves_nothing_behind(tmp_path, monkeypatch):
    calls = []
    real_save = Image.Image.save

    def failing_save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the export
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(KeyboardInterrupt):
        export_fashion_mnist_pngs(per_class=2, destination=tmp_path / "png")
    assert not (tmp_path / "png").exists()  # no half-filled folder, no staging folder

    monkeypatch.setattr(Image.Image, "save", real_save)
    target = export_fashion_mnist_pngs(per_class=2, destination=tmp_path / "png")
    assert len(ImageFolderDataset(target)) == 20


def test_an_incomplete_export_is_redone(tmp_path):
    target = export_fashion_mnist_pngs(per_class=2, destination=tmp_path)
    victim = next((target / "5-sandal").iterdir())
    victim.unlink()
    export_fashion_mnist_pngs(per_class=2, destination=tmp_path)
    assert victim.exists()


def test_export_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="per_class"):
        export_fashion_mnist_pngs(per_class=0, destination=tmp_path)
    with pytest.raises(ValueError, match="split"):
        export_fashion_mnist_pngs(split="validation", destination=tmp_path)
    assert image_folder.PNG_EXPORT_FOLDER == "fashion-mnist-png"
