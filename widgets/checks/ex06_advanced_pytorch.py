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

from widgets.checks import Checker, Hints, Mistake, check_claims
from widgets.image_folder import ImageFolderDataset

hint = Hints(
    {
        1: [
            "In __init__, list the class folders in a fixed (sorted) order, so that the labels "
            "do not depend on the order the file system returns them in; a class's label is "
            "its position in that order.",
            "Keep a list of (path, label) pairs: __len__ is its length, and __getitem__ opens "
            "one file, converts it to grey levels and turns it into a tensor.",
            "pixel values 0…255 → float32 in [0, 1], shape (height, width) → (1, height, "
            "width): one channel axis in front.",
        ],
        2: [
            "A checkpoint holds state_dicts (tensors and plain values), never the objects "
            "themselves; the optimizer's state matters, since Adam's next steps depend on its "
            "running averages.",
            "Name each file after its epoch with zero padding, so that names sort like epochs; "
            "after writing the new file, list the folder's checkpoints and delete all but the "
            "newest `keep`.",
            "write folder/epoch-NNN.pt;  for every checkpoint older than the `keep` newest: "
            "delete it.",
        ],
        3: [
            "Find the checkpoint with the highest epoch in the folder; with none, training "
            "starts from scratch (epoch 0) and nothing is loaded.",
            "Load with weights_only=True (a checkpoint is a pickle: it refuses files that "
            "could run code), then put each saved state_dict back into its object.",
        ],
        4: [
            "Two phases: during the warm-up the factor grows linearly and reaches 1 at the last "
            "warm-up step; afterwards it follows half a cosine period from 1 down to 0.",
            "With s the step, w the warm-up steps and T the total: f(s) = (s + 1) / w for "
            "s < w, else f(s) = ½ · (1 + cos(π · p)) with p = (s − w) / (T − w).",
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


def _checkpoint_names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.pt"))


def _read_state(check: Checker, path: Path) -> dict:
    try:
        return torch.load(path, weights_only=True)
    except Exception as error:
        check.fail(
            f"torch.load({path.name}, weights_only=True) cannot read the file "
            f"({type(error).__name__}): save state_dicts (tensors and plain values), not "
            "the model or optimizer objects themselves."
        )


def save_checkpoint(student_function):
    """Task 2: one file per epoch, named after it, only the newest ``keep`` kept."""
    with Checker("Task 2 · save_checkpoint") as check, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        model, optimizer = _fresh_setup()
        for epoch in range(1, 5):
            _train(model, optimizer, 1)
            check.call(
                student_function,
                folder,
                model,
                optimizer,
                epoch,
                2,
                case=f"after epoch {epoch}, keep=2",
            )
            names = _checkpoint_names(folder)
            newest = f"epoch-{epoch:03d}.pt"
            if newest not in names:
                check.fail(
                    f"after epoch {epoch} the folder holds {names or 'no .pt file'}; expected "
                    f"a file named {newest} (the epoch with three digits).",
                    case=f"after epoch {epoch}, keep=2",
                )
            expected = [f"epoch-{e:03d}.pt" for e in range(max(1, epoch - 1), epoch + 1)]
            if names != expected:
                check.fail(
                    f"after epoch {epoch} with keep=2 the folder holds {names}; expected "
                    f"{expected}: delete all but the 2 newest checkpoints.",
                    case=f"after epoch {epoch}, keep=2",
                )
        state = _read_state(check, folder / "epoch-004.pt")
        parts = [
            v for v in (state.values() if isinstance(state, dict) else []) if isinstance(v, dict)
        ]
        if not any(set(model.state_dict()) <= set(part) for part in parts):
            check.fail("the file does not contain the model's state_dict.")
        if not any("state" in part and "param_groups" in part for part in parts):
            check.fail(
                "the file does not contain the optimizer's state_dict: Adam's running "
                "averages are part of the training state."
            )
        if 4 not in [v for v in state.values() if isinstance(v, int)]:
            check.fail(
                "the epoch (4 in this file) is not in it: save it too, so training knows "
                "where to resume."
            )
        check.summary = (
            "one readable file per epoch (model, optimizer, epoch), only the 2 newest kept"
        )
    return check.report


def resume(save_function, load_function):
    """Task 3: save each epoch, load the latest into fresh objects, finish == uninterrupted."""
    with (
        Checker("Task 3 · load_latest and resume") as check,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp) / "run"
        folder.mkdir()
        uninterrupted, optimizer = _fresh_setup()
        _train(uninterrupted, optimizer, 4)

        torch.manual_seed(123)  # fresh objects with other weights: loading must overwrite them
        resumed = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
        resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.05)
        untouched = _parameters(resumed)
        case = "an empty folder (a first run)"
        epoch = check.call(load_function, folder, resumed, resumed_optimizer, case=case)
        if epoch != 0:
            check.fail(f"returned {epoch!r}; with no checkpoint it should return 0.", case=case)
        if not torch.equal(_parameters(resumed), untouched):
            check.fail("the model changed although there was nothing to load.", case=case)

        first_half, optimizer = _fresh_setup()
        for number in (1, 2):
            _train(first_half, optimizer, 1)
            check.call(save_function, folder, first_half, optimizer, number, 5)
        case = "epochs 1 and 2 saved"
        epoch = check.call(load_function, folder, resumed, resumed_optimizer, case=case)
        if epoch != 2:
            check.fail(
                f"load_latest returned {epoch!r}; it should return the epoch of the newest "
                "checkpoint (2 here), so training resumes at epoch 3.",
                case=case,
            )
        if not torch.equal(_parameters(resumed), _parameters(first_half)):
            check.fail(
                "after loading, the model's parameters differ from the newest checkpoint's: "
                "load the saved model state into the model.",
                case=case,
            )
        if not resumed_optimizer.state:
            check.fail(
                "after loading, the optimizer has no state: load the saved optimizer state "
                "too. Without it Adam restarts its running averages and the resumed run "
                "drifts away from the uninterrupted one.",
                case=case,
            )
        _train(resumed, resumed_optimizer, 2)
        check.expect(
            _parameters(resumed),
            _parameters(uninterrupted),
            what="the parameters after 2 + 2 epochs",
            atol=1e-6,
            show_expected=False,
        )
        check.summary = (
            "an empty folder starts at epoch 0; 2 epochs, load the latest into new objects, "
            "2 more epochs: the same parameters as 4 epochs without interruption"
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
            if None in got:
                check.fail(
                    f"your function returned None for step {got.index(None)}. Did you forget "
                    "a `return` statement (in one of the two phases)?",
                    case=case,
                )
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
                        "learn at all: the first step already gets 1/warmup_steps of the rate.",
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


def adam_divergence(experiment, claims):
    """Stretch (optional): where Adam stops converging, claims re-measured."""
    return check_claims("Stretch · when Adam diverges", experiment, claims, rtol=0.01)
