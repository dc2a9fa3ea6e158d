"""Checks for exercise 6, advanced PyTorch: a custom Dataset, checkpoints, a schedule.

References: :class:`widgets.image_folder.ImageFolderDataset` (the folder layout and
tensor format lesson 6 teaches), :mod:`widgets.checkpoint` (what a resumable checkpoint
holds) and PyTorch's ``LambdaLR`` (how a schedule factor becomes a learning rate).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from widgets import checkpoint as reference_checkpoint
from widgets.checks import Checker, Hints, Mistake
from widgets.image_folder import ImageFolderDataset

hint = Hints(
    {
        1: [
            "In __init__, list the class folders with sorted(...) so that the labels do not "
            "depend on the order the file system returns them in; the label is the folder's "
            "position in that sorted list.",
            "Keep a list of (path, label) pairs: __len__ returns its length and __getitem__ "
            "opens one file with PIL.Image.open(path).convert('L').",
            "np.asarray(image, dtype=np.float32) / 255 gives (height, width) values in [0, 1]; "
            "torch.from_numpy(...)[None] adds the channel axis: (1, height, width).",
        ],
        2: [
            "Save a dict of state_dicts, never the objects themselves: "
            "{'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'epoch': epoch}.",
            "torch.save(that_dict, path). The optimizer's state matters: Adam keeps running "
            "averages of the gradients that the next steps depend on.",
        ],
        3: [
            "state = torch.load(path, weights_only=True) refuses files that could run code.",
            "model.load_state_dict(state['model']); optimizer.load_state_dict(state['optimizer']); "
            "return state['epoch'].",
        ],
        4: [
            "Two phases: while step < warmup_steps the factor grows linearly, "
            "(step + 1) / warmup_steps, reaching 1 at the last warm-up step.",
            "After the warm-up, progress = (step − warmup_steps) / (total_steps − warmup_steps) "
            "goes from 0 to 1, and the factor is 0.5 · (1 + cos(π · progress)).",
        ],
    }
)


# --------------------------------------------------------------------------- the dataset
_CLASSES = ("2-bag", "0-shirt", "1-shoe")  # created in this unsorted order on purpose


def write_tiny_image_folder(root: Path) -> Path:
    """Three class folders of small grey PNGs (sizes vary), the layout lesson 6 uses."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for number, name in enumerate(_CLASSES):
        folder = root / name
        folder.mkdir(parents=True)
        for index in range(number + 2):  # 2, 3 and 4 images: unbalanced classes
            pixels = rng.integers(0, 256, size=(8 + index, 6), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{index:03d}.png")
    return root


def image_dataset(student_class):
    """Task 1: the student's Dataset over an image folder behaves like lesson 6's."""
    with Checker("Task 1 · ImageDataset") as check, tempfile.TemporaryDirectory() as tmp:
        root = write_tiny_image_folder(Path(tmp) / "images")
        expected = ImageFolderDataset(root)
        case = "3 class folders, 9 PNG images of different sizes"
        dataset = check.call(student_class, root, case=case)
        length = check.call(len, dataset, case=case)
        if length != len(expected):
            check.fail(
                f"len(dataset) is {length}, but the folder holds {len(expected)} images.", case=case
            )
        # (file, tensor, label) of every image: the order of the samples is the student's
        # choice, the label that goes with each image is not.
        files = [(path, expected[i][0], label) for i, (path, label) in enumerate(expected.samples)]
        for index in range(len(expected)):
            item = check.call(dataset.__getitem__, index, case=f"dataset[{index}]")
            image, label = check.unpack(
                item, 2, what="the pair (image, label)", case=f"dataset[{index}]"
            )
            if not isinstance(image, torch.Tensor):
                check.fail(
                    f"the image should be a torch tensor, got a {type(image).__name__}.",
                    case=f"dataset[{index}]",
                )
            # Which file is it?
            same = [
                (path, want_label)
                for path, tensor, want_label in files
                if tensor.shape == image.shape and torch.allclose(image.float(), tensor)
            ]
            if not same:
                want_image = expected[index][0]
                check.expect(
                    image,
                    want_image,
                    what="the image tensor",
                    case=f"dataset[{index}]",
                    mistakes=[
                        Mistake(
                            want_image * 255,
                            "the pixel values are 0–255: divide by 255 so they lie in [0, 1].",
                        )
                    ],
                )
                check.fail(
                    "this image matches none of the folder's images: open the file with "
                    "PIL, convert('L'), and scale to [0, 1].",
                    case=f"dataset[{index}]",
                )
            path, want_label = same[0]
            if int(label) != want_label:
                check.fail(
                    f"label {int(label)} for {path.relative_to(root)}, expected {want_label}: "
                    "number the classes in the *sorted* order of their folder names "
                    f"({', '.join(expected.classes)}), so that the labels do not depend on "
                    "the order the file system lists them in.",
                    case=f"dataset[{index}]",
                )
        check.summary = (
            f"{len(expected)} images in {len(expected.classes)} classes, "
            "labels in sorted folder order, (1, H, W) tensors in [0, 1]"
        )
    return check.report


def image_dataset_transform(student_class):
    """Task 1 (second check): the ``transform`` argument is applied to every image."""
    with (
        Checker("Task 1 · ImageDataset with a transform") as check,
        tempfile.TemporaryDirectory() as tmp,
    ):
        root = write_tiny_image_folder(Path(tmp) / "images")
        seen = []

        def transform(image):
            seen.append(image.size)
            return torch.zeros(1, 4, 4)

        dataset = check.call(student_class, root, transform=transform)
        image, _ = check.unpack(
            check.call(dataset.__getitem__, 0), 2, what="the pair (image, label)"
        )
        if not seen:
            check.fail(
                "the transform was never called: apply it to the PIL image in "
                "__getitem__ when one is given."
            )
        check.expect(image, torch.zeros(1, 4, 4), what="the transformed image")
        check.summary = "the transform receives the PIL image and its result is returned"
    return check.report


# --------------------------------------------------------------------------- checkpoints
def _batches():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(64, 6, generator=generator)
    y = (X[:, 0] + X[:, 1] > 0).long()
    return [(X[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]


def _fresh_setup():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    return model, optimizer


def _train(model, optimizer, epochs: int) -> None:
    for _ in range(epochs):
        for inputs, targets in _batches():
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(inputs), targets).backward()
            optimizer.step()


def _parameters(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def save_checkpoint(student_function):
    """Task 2: the saved file holds the model's and the optimizer's state, loadably."""
    with Checker("Task 2 · save_checkpoint") as check, tempfile.TemporaryDirectory() as tmp:
        model, optimizer = _fresh_setup()
        _train(model, optimizer, 2)
        path = Path(tmp) / "checkpoint.pt"
        check.call(student_function, path, model, optimizer, 2)
        if not path.exists():
            check.fail(
                f"no file was written at the path given ({path.name}): pass it to torch.save."
            )
        try:
            state = torch.load(path, weights_only=True)
        except Exception as error:
            check.fail(
                "torch.load(path, weights_only=True) cannot read the file "
                f"({type(error).__name__}): save state_dicts (tensors and plain "
                "values), not the model or optimizer objects themselves."
            )
        parts = [
            v for v in (state.values() if isinstance(state, dict) else []) if isinstance(v, dict)
        ]
        model_state = model.state_dict()
        has_model = any(set(model_state) <= set(part) for part in parts)
        has_optimizer = any("state" in part and "param_groups" in part for part in parts)
        if not has_model:
            check.fail(
                "the file does not contain the model's state_dict: save "
                "{'model': model.state_dict(), ...}."
            )
        if not has_optimizer:
            check.fail(
                "the file does not contain the optimizer's state_dict: Adam's running "
                "averages are part of the training state; save "
                "optimizer.state_dict() too."
            )
        if 2 not in [v for v in state.values() if isinstance(v, int)]:
            check.fail(
                "the epoch (2 in this check) is not in the file: save it too, so "
                "training knows where to resume."
            )
        check.summary = "model, optimizer and epoch saved, readable with weights_only=True"
    return check.report


def resume(save_function, load_function):
    """Task 3: 2 epochs, save, load into fresh objects, 2 more == 4 uninterrupted epochs."""
    with (
        Checker("Task 3 · load_checkpoint and resume") as check,
        tempfile.TemporaryDirectory() as tmp,
    ):
        uninterrupted, optimizer = _fresh_setup()
        _train(uninterrupted, optimizer, 4)

        first_half, optimizer = _fresh_setup()
        _train(first_half, optimizer, 2)
        path = Path(tmp) / "checkpoint.pt"
        check.call(save_function, path, first_half, optimizer, 2)

        # What lesson 6's checkpoint does: the same interruption, restored completely.
        model_ref, optimizer_ref = _fresh_setup()
        _train(model_ref, optimizer_ref, 2)
        reference_path = Path(tmp) / "reference.pt"
        reference_checkpoint.save_checkpoint(reference_path, model_ref, optimizer_ref, epoch=2)
        model_ref, optimizer_ref = _fresh_setup()
        reference_checkpoint.load_checkpoint(
            reference_path, model_ref, optimizer_ref, restore_rng=False
        )
        _train(model_ref, optimizer_ref, 2)
        assert torch.allclose(_parameters(model_ref), _parameters(uninterrupted))

        torch.manual_seed(123)  # fresh objects with other weights: loading must overwrite them
        resumed = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
        resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.05)
        epoch = check.call(load_function, path, resumed, resumed_optimizer)
        if epoch != 2:
            check.fail(
                f"load_checkpoint returned {epoch!r}; it should return the epoch "
                "saved in the file (2 here), so training resumes at epoch 3."
            )
        first_half_parameters = _parameters(first_half)
        if not torch.equal(_parameters(resumed), first_half_parameters):
            check.fail(
                "after loading, the model's parameters differ from the saved ones: "
                "call model.load_state_dict(...) with the saved model state."
            )
        if not resumed_optimizer.state:
            check.fail(
                "after loading, the optimizer has no state: call "
                "optimizer.load_state_dict(...) with the saved optimizer state. "
                "Without it Adam restarts its running averages and the resumed run "
                "drifts away from the uninterrupted one."
            )
        _train(resumed, resumed_optimizer, 2)
        check.expect(
            _parameters(resumed),
            _parameters(uninterrupted),
            what="the parameters after 2 + 2 epochs",
            atol=1e-6,
        )
        check.summary = (
            "2 epochs, save, load into new objects, 2 more epochs: the same "
            "parameters as 4 epochs without interruption"
        )
    return check.report


# --------------------------------------------------------------------------- the schedule
def _warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return 0.5 * (1 + math.cos(math.pi * progress))


def warmup_cosine(student_function):
    """Task 4: the learning-rate factor of a linear warm-up followed by a cosine decay."""
    with Checker("Task 4 · warmup_cosine") as check:
        for warmup, total in ((5, 20), (1, 10), (10, 100)):
            case = f"warmup_steps={warmup}, total_steps={total}"
            expected = [_warmup_cosine(step, warmup, total) for step in range(total + 1)]
            got = [
                check.call(student_function, step, warmup, total, case=case)
                for step in range(total + 1)
            ]
            zero_start = [step / warmup if step < warmup else e for step, e in enumerate(expected)]
            check.expect(
                got,
                expected,
                what="the factors for steps 0, 1, ...",
                case=case,
                mistakes=[
                    Mistake(
                        zero_start,
                        "the warm-up starts at 0, so the first step would not "
                        "learn at all: use (step + 1) / warmup_steps.",
                    ),
                    Mistake(
                        [0.5 * (1 + math.cos(math.pi * s / total)) for s in range(total + 1)],
                        "there is no warm-up: the factor must grow during the first "
                        "warmup_steps steps.",
                    ),
                ],
            )
            check.passed_case()
        optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: student_function(step, 5, 20)
        )
        rates = []
        for _ in range(20):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        check.expect(
            rates,
            [0.2 * _warmup_cosine(s, 5, 20) for s in range(20)],
            what="the learning rates LambdaLR gives with your factor",
            case="LambdaLR, lr 0.2",
        )
        check.summary = "warm-up to the full rate, then a cosine decay to 0, also through LambdaLR"
    return check.report
