# %% [markdown]
# # 6 · PyTorch advanced (90 min)
#
# Lesson 5 trained a network with the standard loop. This lesson turns that loop into
# the way real projects train: on **your own files**, in runs that can be **stopped and
# resumed exactly**, with **learning-rate schedules**, with the tricks that keep steps
# **stable** (batch norm, gradient clipping, warm-up, the right batch size), with
# **regularisation** whose every part is measured, and by **reusing** a network trained
# on another task. Every claim below comes with the experiment that shows it.
#
# **By the end of this lesson you can**
#
# 1. write a `Dataset` over a folder of images, and use a `DataLoader`'s batching,
#    shuffling, workers and `collate_fn`;
# 2. save and load checkpoints (model, optimizer, scheduler, epoch, random state) so a
#    resumed run is *identical* to an uninterrupted one, safely and atomically;
# 3. choose between StepLR, cosine annealing, warm-up and OneCycle schedules, and say
#    what warm-up does to the first steps;
# 4. use batch normalisation (and its training and evaluation modes), gradient clipping
#    and the batch size to make training stable and fast;
# 5. recognise overfitting and measure what early stopping, dropout, weight decay and
#    augmentation each do against it;
# 6. transfer a trained network to a new domain with few labels (frozen features versus
#    fine-tuning versus training from scratch), and tell when transfer does not pay;
# 7. combine it all into an MLP that reaches about 90 % test accuracy on Fashion-MNIST.
#
# The training loops are lesson 5's (`widgets.torch_training`); the new reusable pieces
# live in `widgets/image_folder.py`, `widgets/checkpoint.py`, `widgets/step_experiments.py`,
# `widgets/regularisation_study.py` and `widgets/transfer.py`, shown and explained here.
# Everything this notebook writes goes to the data folder or to a temporary folder.

# %%
import math
import pickle
import shutil
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from PIL import Image
from torch import nn
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision.transforms import v2

from widgets import data
from widgets.checkpoint import (
    BestCheckpoint,
    CheckpointMismatchError,
    atomic_torch_save,
    load_checkpoint,
    save_checkpoint,
)
from widgets.claims import check_claim, course_seed
from widgets.image_folder import (
    ImageFolderDataset,
    export_fashion_mnist_pngs,
    pad_collate,
)
from widgets.monitor import TrainingMonitor
from widgets.notebook import limit_threads, pick_device, seed_everything, show_source
from widgets.regularisation_study import (
    AugmentedBatches,
    augment_images,
    early_stopping_choice,
    shuffle_labels,
)
from widgets.step_experiments import losses_per_step
from widgets.torch_training import (
    evaluate,
    fit,
    load_tensors,
    make_loaders,
    make_mlp,
    pixel_statistics,
    train_one_epoch,
)
from widgets.transfer import first_per_class, sensor_noise, transfer_model

# One CPU thread: these networks are small, and on a busy (shared) machine extra threads
# mostly wait for each other: we measured one epoch 8x *slower* with two threads there.
limit_threads(1)
rng = seed_everything(0)
device = pick_device()
WORK = Path(tempfile.mkdtemp(prefix="lesson06-"))  # checkpoints and scratch files
CLASS_NAMES = data.CLASS_NAMES["fashion-mnist"]
loss_fn = nn.CrossEntropyLoss()
lesson_started = time.perf_counter()

# %% [markdown]
# ## 1. Your own data: `Dataset` and `DataLoader` (12 min)
#
# So far the data came as ready-made tensors. Real data is files: photos from a phone,
# scans, screenshots. PyTorch splits the work of feeding them to a network in two:
#
# * a **`Dataset`** knows *one* example: `len(dataset)` says how many there are and
#   `dataset[i]` loads the $i$-th, as `(input, label)`;
# * a **`DataLoader`** makes *batches*: it picks indices (shuffled each epoch when
#   `shuffle=True`), asks the dataset for each, and glues them together with a
#   `collate_fn`, optionally in `num_workers` background processes.
#
# The most common layout for labelled images is one folder per class. To have one, we
# export the first 100 Fashion-MNIST training images of each class as PNG files into the
# data folder (once: the export is reused on later runs, and written atomically, so an
# interrupted export leaves nothing half-done behind).

# %% tags=["nbval-check-output"]
png_train = export_fashion_mnist_pngs(per_class=100, split="train")
png_test = export_fashion_mnist_pngs(per_class=30, split="test")
for folder in sorted(png_train.iterdir())[:3]:
    files = sorted(folder.iterdir())
    print(f"{png_train.name}/{folder.name}/  {len(files)} files: {files[0].name}, ...")
print("...")

# %% [markdown]
# The folder names start with the label because classes are numbered in the **sorted
# order of the folder names**: `0-t-shirt-top` is class 0, `9-ankle-boot` class 9. (With
# names alone, "bag" would become class 0.) Here is such a dataset class, written by hand;
# its `__getitem__` opens one file, converts it to one colour mode and applies the transform:


# %%
class FolderOfImages(Dataset):
    """Every image under root/<class>/, labelled by the sorted order of the class folders."""

    def __init__(self, root, transform, mode="L"):
        self.classes = sorted(folder.name for folder in Path(root).iterdir() if folder.is_dir())
        self.samples = [
            (path, label)
            for label, name in enumerate(self.classes)
            for path in sorted((Path(root) / name).iterdir())
            if path.suffix.lower() in (".png", ".jpg", ".jpeg")
        ]
        self.transform, self.mode = transform, mode

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, label = self.samples[index]
        with Image.open(path) as image:
            return self.transform(image.convert(self.mode)), label


# %% [markdown]
# From here on we use the package's `ImageFolderDataset`: the same dataset built on
# torchvision's `datasets.ImageFolder`, plus what real folders need (hidden folders such
# as `.ipynb_checkpoints` skipped, 16-bit scans scaled rather than clipped, a file that
# cannot be read named in the error). The next cell checks that both give the same items.

# %% [markdown]
# A **transform** turns the PIL image into what the model sees. `torchvision.transforms.v2`
# chains them: random augmentation first (a horizontal flip is a different, equally
# valid picture of a shoe), then conversion to a float tensor in $[0, 1]$, then the same
# standardisation as lesson 5, $x \mapsto (x - \mu) / \sigma$ with the training pixels'
# mean and standard deviation. The test set gets no augmentation.

# %% tags=["live", "nbval-check-output"]
MEAN, STD = pixel_statistics(data.load_numpy("fashion-mnist", "train")[0])  # lesson 5
to_model_input = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([MEAN], [STD])]
train_files = ImageFolderDataset(
    png_train, transform=v2.Compose([v2.RandomHorizontalFlip(), *to_model_input])
)
test_files = ImageFolderDataset(png_test, transform=v2.Compose(to_model_input))

by_hand = FolderOfImages(png_test, transform=v2.Compose(to_model_input))
assert len(by_hand) == len(test_files) and all(
    torch.equal(by_hand[i][0], test_files[i][0]) and by_hand[i][1] == test_files[i][1]
    for i in range(0, len(test_files), 29)
)

image, label = train_files[250]
print(f"{len(train_files)} training files, {len(test_files)} test files")
print(f"one item: image {tuple(image.shape)} {image.dtype}, label {label} ({CLASS_NAMES[label]})")
print("images per class:", set(train_files.class_counts().values()))
assert len(train_files) == 1000 and image.shape == (1, 28, 28) and label == 2
assert train_files.classes[9] == "9-ankle-boot"

# %% [markdown]
# The `DataLoader` batches them. Shuffling uses its own seeded generator, so the order is
# random but the same on every run:

# %% tags=["live", "nbval-check-output"]
train_batches = DataLoader(
    train_files,
    batch_size=32,
    shuffle=True,
    generator=torch.Generator().manual_seed(course_seed(0)),
)
images, labels = next(iter(train_batches))
print(f"a batch: images {tuple(images.shape)}, labels {tuple(labels.shape)}")
assert images.shape == (32, 1, 28, 28) and labels.dtype == torch.int64

figure, axes = plt.subplots(2, 8, figsize=(10, 3))
for axis, picture, target in zip(axes.flat, images, labels, strict=False):
    axis.imshow(picture[0] * STD + MEAN, cmap="gray_r", vmin=0, vmax=1)
    axis.set_title(CLASS_NAMES[target], fontsize=8)
    axis.axis("off")
figure.suptitle("the first 16 images of a shuffled batch, read from PNG files")
plt.show()

# %% [markdown]
# ### `collate_fn`: gluing a batch together
#
# The default `collate_fn` stacks the images with `torch.stack`, which needs them all the
# same size. Your own photos rarely are. Two fixes: resize in the transform
# (`v2.Resize((64, 64))`), or write a `collate_fn` that pads each batch to its largest
# image. Here are three files of different sizes:

# %%
mixed = WORK / "mixed-sizes"
for size in (20, 28, 24):
    (mixed / "shapes").mkdir(parents=True, exist_ok=True)
    v2.functional.to_pil_image(torch.ones(1, size, size + 4)).save(mixed / "shapes" / f"{size}.png")
mixed_files = ImageFolderDataset(mixed)
try:
    next(iter(DataLoader(mixed_files, batch_size=3)))
except RuntimeError as error:
    print("default collate_fn:", str(error).splitlines()[0])
images, labels = next(iter(DataLoader(mixed_files, batch_size=3, collate_fn=pad_collate)))
print("pad_collate:", tuple(images.shape))
assert images.shape == (3, 1, 28, 32)

# %% tags=["nbval-check-output"]
show_source(pad_collate)

# %% [markdown]
# ### `num_workers`: loading in parallel
#
# Decoding files costs time. With `num_workers=2` two background processes prepare the
# next batches while the model trains on the current one. Workers change the *speed*, not
# the *content*: without shuffling, the batches are the same.
#
# Two rules for workers: the dataset must be importable (defined in a module like
# `widgets/image_folder.py`, not in a notebook cell) on Windows and macOS, which start
# workers as fresh processes; and starting workers costs time, so for tiny in-memory
# data `num_workers=0` is fastest. The timings below depend on your machine.

# %%
labels_by_workers = {}
for workers in (0, 2):
    started = time.perf_counter()
    loader = DataLoader(test_files, batch_size=100, num_workers=workers)
    labels_by_workers[workers] = torch.cat([batch_labels for _, batch_labels in loader])
    print(
        f"num_workers={workers}: one pass over {len(test_files)} files in "
        f"{time.perf_counter() - started:.2f} s"
    )

# %%
assert torch.equal(labels_by_workers[0], labels_by_workers[2])

# %% [markdown]
# Lesson 5's `fit` takes any loader, so training on files needs no new loop. The images
# arrive as `(1, 28, 28)`; `nn.Flatten()` makes the 784 inputs the MLP expects.

# %%
seed_everything(0)
file_model = nn.Sequential(nn.Flatten(), make_mlp([784, 128, 10]))
file_history = fit(
    file_model,
    train_batches,
    loss_fn,
    torch.optim.Adam(file_model.parameters(), lr=2e-3),
    epochs=4,
    val_loader=DataLoader(test_files, batch_size=300),
)
print(f"after 4 epochs on 1,000 PNG files: test accuracy {file_history[-1]['val_acc']:.0%}")
check_claim(
    "lesson 6: MLP on 1,000 PNG files, test accuracy", file_history[-1]["val_acc"], at_least=0.70
)

# %% [markdown]
# **Your own images.** Make a folder with one sub-folder per class and point the dataset at
# it; colour photos of different sizes need `mode="RGB"` and a resize:
#
# ```python
# photos = ImageFolderDataset(
#     "~/Pictures/my-classes",        # my-classes/cats/*.jpg, my-classes/dogs/*.jpg
#     mode="RGB",
#     transform=v2.Compose(
#         [v2.Resize((64, 64)), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
#     ),
# )
# print(photos.classes, photos.class_counts())
# ```
#
# A file that cannot be decoded raises an error that names it, so you can delete or
# replace it instead of hunting through thousands of files.

# %% [markdown]
# ## 2. Checkpoints: stop and resume exactly (12 min)
#
# Long runs get interrupted: a laptop sleeps, a cloud machine is reclaimed, the kernel
# dies. A **checkpoint** stores everything the next training step depends on:
#
# | what | why |
# |---|---|
# | model `state_dict()` | the weights |
# | optimizer `state_dict()` | Adam's running averages, SGD's momentum |
# | scheduler `state_dict()` | where on its learning-rate curve the run is |
# | epoch | where to continue counting |
# | random number generators | they decide the next shuffle and the next dropout mask |
#
# Two safety rules. A save is **atomic**: the file is written beside its destination and
# renamed over it with `os.replace`, which is all-or-nothing, so an interrupted save
# leaves the previous checkpoint intact. Loading uses **`weights_only=True`**: a
# checkpoint is a pickle, and a pickle can run arbitrary code when loaded; `weights_only`
# allows only tensors and plain values.

# %% tags=["nbval-check-output"]
show_source(atomic_torch_save, save_checkpoint)

# %% [markdown]
# **The experiment.** A small run where every step depends on chance: shuffled batches,
# dropout, a StepLR schedule. We run it for 6 epochs without a break; then again for 3
# epochs, save, build everything anew (as a fresh process would, with other random
# weights), load, and run the remaining 3.

# %%
X_train, y_train = load_tensors("fashion-mnist", "train")
X_test, y_test = load_tensors("fashion-mnist", "test")
X_val, y_val = X_train[50_000:], y_train[50_000:]  # held out from training, for decisions
X_train, y_train = X_train[:50_000], y_train[:50_000]


def batches(X, y, batch_size=128, shuffle=True, seed=0):
    """A DataLoader over tensors; shuffling with its own seeded generator."""
    generator = torch.Generator().manual_seed(course_seed(seed)) if shuffle else None
    return DataLoader(
        TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, generator=generator
    )


def resumable_experiment(seed=0):
    torch.manual_seed(seed)
    model = make_mlp([784, 64, 10], dropout=0.3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler, batches(X_train[:3000], y_train[:3000], seed=seed)


def train_losses(model, optimizer, scheduler, loader, epochs):
    history = fit(model, loader, loss_fn, optimizer, epochs=epochs, scheduler=scheduler)
    return [record["loss"] for record in history]


model, optimizer, scheduler, loader = resumable_experiment()
uninterrupted = train_losses(model, optimizer, scheduler, loader, epochs=6)

model, optimizer, scheduler, loader = resumable_experiment()
first_part = train_losses(model, optimizer, scheduler, loader, epochs=3)
checkpoint_path = save_checkpoint(
    WORK / "run.pt",
    model,
    optimizer,
    scheduler,
    epoch=3,
    generators={"shuffle": loader.generator},  # the loader's private shuffling generator
)

model, optimizer, scheduler, loader = resumable_experiment(seed=123)  # "a new process"
resumed_at = load_checkpoint(
    checkpoint_path, model, optimizer, scheduler, generators={"shuffle": loader.generator}
)
second_part = train_losses(model, optimizer, scheduler, loader, epochs=3)

print("uninterrupted:", " ".join(f"{loss:.6f}" for loss in uninterrupted))
print("resumed:      ", " ".join(f"{loss:.6f}" for loss in first_part + second_part))
print(f"(resumed after epoch {resumed_at['epoch']})")
assert first_part + second_part == uninterrupted  # equal to the last bit, not just close

# %% [markdown]
# The two runs are identical, bit for bit. Leave out one ingredient and they are not:
# here the same resume without restoring the random state (the batches and dropout
# masks of epochs 4 to 6 come out differently):

# %% tags=["live"]
model, optimizer, scheduler, loader = resumable_experiment(seed=123)
load_checkpoint(checkpoint_path, model, optimizer, scheduler, restore_rng=False)
without_rng = train_losses(model, optimizer, scheduler, loader, epochs=3)
print("resumed without the random state:", " ".join(f"{loss:.6f}" for loss in without_rng))
assert without_rng != uninterrupted[3:]

# %% [markdown]
# **A checkpoint that does not fit.** Loading weights into a different architecture is a
# classic mistake (a changed hidden size, a layer added). `load_checkpoint` checks every
# name and shape first and says what differs, before changing anything:

# %% tags=["nbval-check-output"]
try:
    load_checkpoint(checkpoint_path, make_mlp([784, 128, 10]))
except CheckpointMismatchError as error:
    print(error)

# %% [markdown]
# **An interrupted save.** Below, the second save fails halfway: the object contains a
# function, which cannot be pickled, so `torch.save` stops after writing part of the file,
# just as a crash or Ctrl-C would. The atomic save leaves the previous checkpoint as it
# was; a plain `torch.save` to the same path leaves a broken file.

# %% tags=["nbval-check-output"]
not_picklable = {"model": model.state_dict(), "callback": lambda: None}
for save in (atomic_torch_save, torch.save):
    target = WORK / f"{save.__name__}.pt"
    atomic_torch_save({"epoch": 3, "model": model.state_dict()}, target)  # a good checkpoint
    try:
        save(not_picklable, target)
    except (AttributeError, TypeError, pickle.PicklingError):
        pass
    try:
        epoch = torch.load(target, weights_only=True)["epoch"]
        print(
            f"after an interrupted {save.__name__}: the previous checkpoint loads (epoch {epoch})"
        )
        survived = True
    except Exception as error:  # noqa: BLE001 - any failure to load is the point here
        print(
            f"after an interrupted {save.__name__}: {type(error).__name__}, the checkpoint is lost"
        )
        survived = False
    assert survived == (save is atomic_torch_save)
print("files left in the folder:", sorted(p.name for p in WORK.glob("*.pt*")))

# %% [markdown]
# ## 3. Learning-rate schedules (12 min)
#
# A large learning rate makes fast progress early; a small one settles into a minimum
# at the end. A **schedule** changes the rate as training goes, step $t$ of $T$:
#
# * **StepLR**: $\eta_t = \eta_0\,\gamma^{\lfloor t / s \rfloor}$, that is, divide by
#   $1/\gamma$ every $s$ steps;
# * **cosine annealing**:
#   $\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\,(1 + \cos(\pi t / T))$,
#   a smooth glide from $\eta_0$ to $\eta_{\min}$;
# * **warm-up**: start small and grow linearly for the first steps, while Adam's
#   statistics and batch norm's running averages are still unreliable, then anneal;
# * **OneCycle**: warm up to a large $\eta_{\max}$ (30 % of the run), then anneal far below
#   the start; it also lowers momentum while the rate is high.
#
# Schedules count *steps*. `fit` steps a scheduler once per epoch; for a per-batch
# schedule we attach it to the optimizer, which then steps it after every update:
# `optimizer.register_step_post_hook(lambda *_: scheduler.step())`.
# `tests/test_schedules.py` checks each formula above against PyTorch.

# %%
SCHEDULE_EPOCHS, SCHEDULE_BATCH = 6, 100
schedule_loader = batches(X_train[:5000], y_train[:5000], batch_size=SCHEDULE_BATCH)
STEPS = SCHEDULE_EPOCHS * len(schedule_loader)
BASE_LR = 0.05


def make_schedule(name, optimizer):
    if name == "constant":
        return lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=STEPS // 3, gamma=0.3)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
    if name == "warm-up + cosine":
        warmup = STEPS // 10
        return lr_scheduler.SequentialLR(
            optimizer,
            [
                lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup),
                lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS - warmup),
            ],
            milestones=[warmup],
        )
    if name == "one-cycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=BASE_LR, total_steps=STEPS)
    raise ValueError(f"unknown schedule {name!r}")


SCHEDULES = ["constant", "step", "cosine", "warm-up + cosine", "one-cycle"]
schedule_runs = {}
for name in SCHEDULES:
    seed_everything(0)  # the same initial weights and batches for every schedule
    model = make_mlp([784, 64, 10])
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=0.9)
    scheduler = make_schedule(name, optimizer)
    rates = []
    optimizer.register_step_post_hook(lambda *_, s=scheduler, r=rates: r.append(s.get_last_lr()[0]))
    optimizer.register_step_post_hook(lambda *_, s=scheduler: s.step())
    history = fit(
        model,
        schedule_loader,
        loss_fn,
        optimizer,
        epochs=SCHEDULE_EPOCHS,
        val_loader=batches(X_val, y_val, 2000, shuffle=False),
    )
    schedule_runs[name] = {"rates": rates, "history": history}

figure, (rate_axis, loss_axis) = plt.subplots(1, 2, figsize=(11, 3.6))
for name, run in schedule_runs.items():
    rate_axis.plot(run["rates"], label=name)
    loss_axis.plot(
        [r["epoch"] for r in run["history"]],
        [r["val_loss"] for r in run["history"]],
        marker="o",
        label=name,
    )
rate_axis.set(xlabel="step (batch)", ylabel="learning rate", title="the schedules")
loss_axis.set(xlabel="epoch", ylabel="validation loss", title="the same run under each schedule")
rate_axis.legend(fontsize=8)
plt.show()
for name, run in schedule_runs.items():
    last = run["history"][-1]
    print(
        f"{name:17s} final validation loss {last['val_loss']:.3f}, accuracy {last['val_acc']:.1%}"
    )

# %%
final_loss = {name: run["history"][-1]["val_loss"] for name, run in schedule_runs.items()}
assert all(len(run["rates"]) == STEPS for run in schedule_runs.values())
assert abs(max(schedule_runs["one-cycle"]["rates"]) - BASE_LR) < 1e-4  # its peak
# Every schedule that anneals ends better than the constant rate.
closest = min(final_loss["constant"] - final_loss[name] for name in SCHEDULES[1:])
check_claim(
    "lesson 6: constant rate's final loss minus the worst annealed one's", closest, at_least=0.0
)

# %% [markdown]
# Annealing matters more than its exact shape: all four schedules end below the constant
# rate, which keeps bouncing around the minimum (its validation loss even rises again).
# The warm-ups (red, purple) pay with a slow first epoch and catch up. Cosine and
# OneCycle need only the run's length, which makes them good defaults; section 7 uses
# OneCycle.

# %% [markdown]
# ### What warm-up does to the first steps
#
# Warm-up is meant for a large rate at the very start, with Adam above all. Adam divides
# each gradient by a running estimate of its size, so its first updates move *every*
# weight by about the full rate, however unsure that direction is. From random weights,
# at `lr=0.01`, that is a jolt. Below, the loss of each of the first 100 steps, without
# warm-up and with the rate grown linearly from 2 % to 100 % over the first 50 steps
# (`LinearLR`), same start, same batches.
# `losses_per_step` is lesson 5's loop recording every step instead of an epoch's average:

# %% tags=["nbval-check-output"]
show_source(losses_per_step)

# %%
STEP_DATA = X_train[:6000], y_train[:6000]  # a small training set for the step experiments
first_steps = {}
for warm_up in (False, True):
    seed_everything(0)
    model = make_mlp([784, 256, 256, 10])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = (
        lr_scheduler.LinearLR(optimizer, start_factor=0.02, total_iters=50) if warm_up else None
    )
    first_steps[warm_up] = losses_per_step(
        model,
        optimizer,
        *STEP_DATA,
        batch_size=100,
        steps=100,
        seed=course_seed(0),
        scheduler=scheduler,
    )

figure, axis = plt.subplots(figsize=(7, 3.2))
axis.plot(first_steps[False], color="C3", label="lr 0.01 from the first step")
axis.plot(first_steps[True], color="C0", label="linear warm-up over 50 steps")
axis.set(xlabel="step", ylabel="training loss (one batch)", title="Adam's first 100 steps")
axis.legend()
plt.show()
start_loss = first_steps[False][0]
peak = {warm_up: max(losses[:20]) for warm_up, losses in first_steps.items()}
late = {warm_up: sum(losses[50:]) / 50 for warm_up, losses in first_steps.items()}
print(f"loss at the start: {start_loss:.2f} (about ln 10 = 2.30, a uniform guess)")
print(f"highest loss in steps 1-20: without warm-up {peak[False]:.2f}, with {peak[True]:.2f}")
print(f"mean loss of steps 51-100: without warm-up {late[False]:.2f}, with {late[True]:.2f}")

# %%
check_claim(
    "lesson 6: warm-up, highest early loss, without minus with",
    peak[False] - peak[True],
    at_least=0.5,
)
check_claim(
    "lesson 6: warm-up, highest early loss above the start", peak[True] - start_loss, at_most=0.15
)
check_claim(
    "lesson 6: warm-up, steps 51-100, mean losses differ by",
    abs(late[False] - late[True]),
    at_most=0.1,
)

# %% [markdown]
# Without warm-up the loss *rises* well above the uniform guess it started from: the
# first full-size steps knock the network off course, and the following steps spend
# themselves repairing the damage. With warm-up the loss never climbs noticeably above
# its start. Here the network recovers either way (by steps 51 to 100 both are at about
# the same loss). Warm-up is cheap insurance for the first steps, not a way to a better
# end point.

# %% [markdown]
# ## 4. Stable, fast steps: batch norm, clipping, batch size (12 min)
#
# ### Batch normalisation: batch statistics in training, running averages in evaluation
#
# Batch norm standardises each feature with the mean $\mu_B$ and variance $\sigma_B^2$
# of the current batch, $\hat x = (x - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}$, then learns a
# scale and shift, $y = \gamma \hat x + \beta$. In training mode a sample's output
# therefore depends on the **other samples in its batch**. Meanwhile it keeps running
# averages, $\mu \leftarrow 0.9\,\mu + 0.1\,\mu_B$, which evaluation mode uses instead, so
# predictions do not depend on the batch.

# %%
torch.manual_seed(course_seed(0))
norm = nn.BatchNorm1d(1)
sample = torch.tensor([[5.0]])
batch_a = torch.cat([sample, torch.randn(7, 1) * 2 + 3])
batch_b = torch.cat([sample, torch.randn(7, 1) * 2 + 3])
norm.train()
in_a, in_b = norm(batch_a)[0].item(), norm(batch_b)[0].item()
for _ in range(50):  # more training batches from data with mean 3, std 2
    norm(torch.randn(64, 1) * 2 + 3)
norm.eval()
eval_a, eval_b = norm(batch_a)[0].item(), norm(batch_b)[0].item()
print(f"train mode: the same sample gives {in_a:.3f} in batch A and {in_b:.3f} in batch B")
print(
    f"eval mode:  {eval_a:.3f} in both; running mean {norm.running_mean.item():.2f}, "
    f"running variance {norm.running_var.item():.2f}"
)
check_claim(
    "lesson 6: batch norm, train mode, one sample in two batches differs by",
    abs(in_a - in_b),
    at_least=0.1,
)
assert eval_a == eval_b
check_claim(
    "lesson 6: batch norm running mean minus 3", abs(norm.running_mean.item() - 3), at_most=0.3
)
check_claim(
    "lesson 6: batch norm running variance minus 4", abs(norm.running_var.item() - 4), at_most=0.8
)

# %% [markdown]
# Forgetting `model.eval()` before evaluating is the classic consequence: predictions then
# change with the batch. Lesson 5's `evaluate` switches to evaluation mode for you.

# %% [markdown]
# ### A batch of one
#
# In training mode a batch of one sample has no spread to standardise with (its variance
# is zero), so batch norm refuses it with an error. Calling `model.eval()` first, as
# lesson 5's `evaluate` does, is the fix:

# %%
seed_everything(0)
normed = make_mlp([784, 32, 10], batch_norm=True)
normed.train()
try:
    normed(X_val[:1])
    one_sample_error = None
except ValueError as error:
    one_sample_error = error
    print("training mode:", error)
normed.eval()
print("evaluation mode: logits of shape", tuple(normed(X_val[:1]).shape))
assert one_sample_error is not None

# %% [markdown]
# ### What batch norm does to training
#
# Standardising every layer's inputs keeps them in a range where a learning rate that
# suits one layer suits the others, however the weights before them change. The
# experiment: a deep MLP (three hidden layers of 256) trained by SGD with momentum for
# 120 steps, with and without batch norm, at a moderate rate (0.05) and at a large one
# (1.0). Same start, same batches.

# %%
VAL_SMALL = batches(X_val[:2000], y_val[:2000], 2000, shuffle=False)
bn_runs = {}
for rate in (0.05, 1.0):
    for batch_norm in (False, True):
        seed_everything(0)
        model = make_mlp([784, 256, 256, 256, 10], batch_norm=batch_norm)
        losses = losses_per_step(
            model,
            torch.optim.SGD(model.parameters(), lr=rate, momentum=0.9),
            *STEP_DATA,
            batch_size=100,
            steps=120,
            seed=course_seed(0),
        )
        trained = math.isfinite(losses[-1])
        accuracy = evaluate(model, VAL_SMALL, loss_fn)[1] if trained else float("nan")
        bn_runs[rate, batch_norm] = {"losses": losses, "val_acc": accuracy}
        print(
            f"lr {rate:<4} {'with' if batch_norm else 'without'} batch norm: "
            + (
                f"loss of the last 20 steps {sum(losses[-20:]) / 20:.3f}, validation accuracy "
                f"{accuracy:.1%}"
                if trained
                else f"diverged at step {len(losses)} (loss {losses[-1]})"
            )
        )

figure, axes = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
for axis, rate in zip(axes, (0.05, 1.0), strict=True):
    for batch_norm, colour in ((False, "C3"), (True, "C0")):
        losses = bn_runs[rate, batch_norm]["losses"]
        label = f"{'with' if batch_norm else 'without'} batch norm"
        axis.plot(
            losses, color=colour, label=label + ("" if math.isfinite(losses[-1]) else " (diverged)")
        )
    axis.set(xlabel="step", title=f"SGD, lr {rate}", ylim=(0, 3))
    axis.legend()
axes[0].set_ylabel("training loss (one batch)")
plt.show()

# %%
bn_gain = (
    sum(bn_runs[0.05, False]["losses"][-20:]) / 20 - sum(bn_runs[0.05, True]["losses"][-20:]) / 20
)
check_claim(
    "lesson 6: batch norm, lr 0.05, loss of the last 20 steps lowered by", bn_gain, at_least=0.03
)
check_claim(
    "lesson 6: no batch norm, lr 1.0, steps until divergence",
    len(bn_runs[1.0, False]["losses"]),
    at_most=60,
)
assert not math.isfinite(bn_runs[1.0, False]["losses"][-1])
check_claim(
    "lesson 6: batch norm, lr 1.0, validation accuracy",
    bn_runs[1.0, True]["val_acc"],
    at_least=0.55,
)

# %% [markdown]
# At 0.05 both nets learn; the one with batch norm gets further in the same 120 steps.
# At 1.0 the plain net diverges within a few dozen steps (its loss becomes `nan`), while
# the batch-norm net trains: batch norm widens the range of learning rates that work,
# which is why section 7's fast recipe uses it.
#
# ### Gradient clipping: a cap on each step
#
# One unlucky batch with a huge gradient can throw the weights so far that the loss
# explodes and never recovers. **Gradient clipping** rescales the gradient, when its total
# norm $\lVert g\rVert$ exceeds a cap $c$, to $g \cdot c / \lVert g\rVert$: the direction is
# kept, the step is bounded. One line between `backward()` and `step()`:
# `nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)`. Below, a plain MLP with
# SGD at a rate too large for it (0.5), with and without that line:

# %%
clipping_runs = {}
for clip_norm in (None, 1.0):
    seed_everything(0)
    model = make_mlp([784, 256, 256, 10])
    losses = losses_per_step(
        model,
        torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9),
        *STEP_DATA,
        batch_size=100,
        steps=120,
        seed=course_seed(0),
        clip_norm=clip_norm,
    )
    trained = math.isfinite(losses[-1])
    clipping_runs[clip_norm] = {
        "steps": len(losses),
        "val_acc": evaluate(model, VAL_SMALL, loss_fn)[1] if trained else float("nan"),
    }
    print(
        f"clip_norm={clip_norm}: "
        + (
            f"{len(losses)} steps, validation accuracy {clipping_runs[clip_norm]['val_acc']:.1%}"
            if trained
            else f"diverged at step {len(losses)}"
        )
    )

# %%
check_claim(
    "lesson 6: no clipping, lr 0.5, steps until divergence",
    clipping_runs[None]["steps"],
    at_most=100,
)
assert clipping_runs[1.0]["steps"] == 120
check_claim(
    "lesson 6: clipping at 1.0, lr 0.5, validation accuracy",
    clipping_runs[1.0]["val_acc"],
    at_least=0.6,
)

# %% [markdown]
# Without clipping the run diverges; with it, the same rate trains to a usable network.
# Clipping is a safety net, not a tuning knob: it rescues runs from rare huge steps
# (common in recurrent networks and transformers); if it clips *every* step, the rate
# is simply too large.
#
# ### Batch size, learning rate and time per epoch
#
# A larger batch averages more examples per step, so each step is more accurate, and the
# computer processes it more efficiently (one big matrix product instead of many small
# ones). But an epoch then has fewer steps. Two epochs on 6,000 images with SGD:

# %%
batch_runs = {}
for batch_size, rate in ((16, 0.02), (256, 0.02), (256, 0.1)):
    seed_everything(0)
    model = make_mlp([784, 128, 10])
    optimizer = torch.optim.SGD(model.parameters(), lr=rate)
    steps = 2 * (len(STEP_DATA[0]) // batch_size)
    started = time.process_time()  # CPU time of this process: less disturbed by other programs
    losses_per_step(
        model, optimizer, *STEP_DATA, batch_size=batch_size, steps=steps, seed=course_seed(0)
    )
    batch_runs[batch_size, rate] = {
        "seconds per epoch": (time.process_time() - started) / 2,
        "steps": steps,
        "val_acc": evaluate(model, VAL_SMALL, loss_fn)[1],
    }
for (batch_size, rate), run in batch_runs.items():
    print(
        f"batch {batch_size:3d}, lr {rate:<4}: {run['steps']:3d} steps, "
        f"validation accuracy {run['val_acc']:.1%}"
    )
time_ratio = batch_runs[16, 0.02]["seconds per epoch"] / batch_runs[256, 0.02]["seconds per epoch"]
print(f"an epoch in batches of 16 took {time_ratio:.1f} times as long as in batches of 256")

# %%
check_claim(
    "lesson 6: batch 16 minus batch 256, same lr, validation accuracy",
    batch_runs[16, 0.02]["val_acc"] - batch_runs[256, 0.02]["val_acc"],
    at_least=0.05,
)
check_claim(
    "lesson 6: batch 256, lr 0.1 minus lr 0.02, validation accuracy",
    batch_runs[256, 0.1]["val_acc"] - batch_runs[256, 0.02]["val_acc"],
    at_least=0.01,
)
check_claim("lesson 6: epoch time, batch 16 over batch 256", time_ratio, at_least=1.2)

# %% [markdown]
# Per epoch, small batches learn more (many more steps) but take longer; large batches
# are cheaper per epoch but, at the same rate, learn less from it. Raising the rate with
# the batch (here 5x) recovers part of the difference: a common rule of thumb scales
# the rate in proportion to the batch size, up to the point where training turns
# unstable (then warm-up and batch norm help). The time ratio is this machine's: each
# computer has its own, but the direction is the same everywhere.

# %% [markdown]
# ## 5. Regularisation (18 min)
#
# ### Dropout: different in training and evaluation
#
# In training, dropout sets each activation to zero with probability $p$ and scales the
# survivors by $1/(1-p)$, so the expected value is unchanged:
# $\mathbb{E}[\tilde h] = (1-p)\cdot\frac{h}{1-p} = h$. A network cannot rely on any single
# unit, which discourages co-adapted, memorised features. In evaluation mode dropout does
# nothing at all.

# %%
dropout = nn.Dropout(p=0.5)
activations = torch.ones(1, 10_000)
dropout.train()
trained = dropout(activations)
dropout.eval()
evaluated = dropout(activations)
print(
    f"train mode: {float((trained == 0).float().mean()):.1%} zeroed, survivors = "
    f"{trained.max().item():.1f}, mean {trained.mean().item():.2f}"
)
print(f"eval mode:  unchanged = {torch.equal(evaluated, activations)}")
check_claim(
    "lesson 6: dropout 0.5, fraction zeroed",
    (trained == 0).float().mean(),
    at_least=0.48,
    at_most=0.52,
)
assert set(trained.unique().tolist()) == {0.0, 2.0}
assert torch.equal(evaluated, activations)

# %% [markdown]
# ### Overfitting, then each cure measured
#
# A setting built to overfit: 1,000 training images of which **40 % have shuffled
# labels** (a careless annotator; no rule can predict those labels), and an MLP with
# 784-128-128-10 units, about 118,000 weights, trained for 20 epochs with AdamW. A network
# this size can memorise all 1,000 answers, the wrong ones included, and memorising
# wrong answers costs accuracy on new images. The validation set (1,000 other images,
# correctly labelled) shows it.
#
# The cures, each alone and then all four together (at milder doses: dropout 0.3,
# weight decay 3):
#
# * **early stopping**: keep the epoch with the lowest validation loss, stop after 3
#   epochs without a new lowest (`BestCheckpoint` with `fit`'s `on_epoch_end` does it
#   during training; `early_stopping_choice` reads the same choice off a finished run);
# * **dropout** 0.5 on both hidden layers;
# * **weight decay**: each step also shrinks every weight, $w \leftarrow w - \eta\lambda w$,
#   which prefers small weights (for plain SGD it equals adding
#   $\frac{\lambda}{2}\lVert w\rVert^2$ to the loss, L2 regularisation; for Adam use
#   `AdamW`, whose decay is not distorted by Adam's per-weight scaling). The size must
#   matter: with $\eta = 0.003$, $\lambda = 10$ shrinks the weights by 3 % per step,
#   while the common default $\lambda = 0.01$ would shrink them by 0.6 % in the whole run;
# * **augmentation**: every epoch each image is flipped left-right at random and shifted
#   by up to 2 pixels, so the network never sees exactly the same picture twice and
#   cannot memorise pixels.

# %% tags=["nbval-check-output"]
show_source(shuffle_labels, augment_images, early_stopping_choice, BestCheckpoint.update)

# %%
NOISY_SIZE, EPOCHS_OVERFIT, PATIENCE = 1000, 20, 3
BACKGROUND = float(X_train.min())  # an empty pixel, standardised
X_noisy = X_train[:NOISY_SIZE]
overfit_val = batches(X_val[:1000], y_val[:1000], batch_size=1000, shuffle=False)
CURES = {  # dropout, weight decay, augmentation; early stopping is read off the curves
    "no cure": (0.0, 0.0, False),
    "dropout": (0.5, 0.0, False),
    "weight decay": (0.0, 10.0, False),
    "augmentation": (0.0, 0.0, True),
    "all together": (0.3, 3.0, True),  # milder doses: four cures at once add up
}


def overfitting_run(cure, seed):
    """One run of the overfitting study; its history and the final weights' norm."""
    dropout, weight_decay, augment = CURES[cure]
    labels = shuffle_labels(y_train[:NOISY_SIZE], fraction=0.4, seed=100 + seed)  # fixed data
    seed_everything(seed)
    model = make_mlp([784, 128, 128, 10], dropout=dropout)
    loader = batches(X_noisy, labels, batch_size=100, seed=seed)
    if augment:
        loader = AugmentedBatches(loader, background=BACKGROUND, seed=course_seed(seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=weight_decay)
    history = fit(model, loader, loss_fn, optimizer, epochs=EPOCHS_OVERFIT, val_loader=overfit_val)
    weight_norm = torch.cat([p.detach().flatten() for p in model.parameters()]).norm().item()
    return history, weight_norm


SEEDS = (0, 1)
study = {(cure, seed): overfitting_run(cure, seed) for cure in CURES for seed in SEEDS}


# %%
def mean_over_seeds(cure, value):
    return sum(value(study[cure, seed][0]) for seed in SEEDS) / len(SEEDS)


def final_val_acc(history):
    return history[-1]["val_acc"]


def stopped_val_acc(history):
    return early_stopping_choice(history, PATIENCE)["val_acc"]


table = {
    "no cure": mean_over_seeds("no cure", final_val_acc),
    "early stopping": mean_over_seeds("no cure", stopped_val_acc),
    "dropout": mean_over_seeds("dropout", final_val_acc),
    "weight decay": mean_over_seeds("weight decay", final_val_acc),
    "augmentation": mean_over_seeds("augmentation", final_val_acc),
    "all together": mean_over_seeds("all together", stopped_val_acc),
}
peak = {cure: mean_over_seeds(cure, lambda h: max(r["val_acc"] for r in h)) for cure in CURES}
train_acc = {cure: mean_over_seeds(cure, lambda h: h[-1]["acc"]) for cure in CURES}
print(f"{'cure':15s} {'validation accuracy':>20s} {'best epoch':>11s} {'train accuracy':>15s}")
for cure, accuracy in table.items():
    run = "no cure" if cure == "early stopping" else cure
    print(
        f"{cure:15s} {accuracy:20.1%} {peak[run]:11.1%} {train_acc[run]:15.1%}"
        + (
            "   (at the epoch early stopping keeps)"
            if cure in ("early stopping", "all together")
            else ""
        )
    )
print("(means over seeds 0 and 1; 'best epoch': the highest validation accuracy of the run)")

figure, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
for cure, colour in zip(CURES, ("C3", "C1", "C2", "C4", "C0"), strict=True):
    for seed, axis in zip(SEEDS, axes, strict=True):
        history = study[cure, seed][0]
        epochs = [r["epoch"] for r in history]
        axis.plot(epochs, [r["val_acc"] for r in history], color=colour, label=cure)
        if cure == "no cure":
            kept = early_stopping_choice(history, PATIENCE)
            axis.plot(
                kept["epoch"],
                kept["val_acc"],
                "o",
                color=colour,
                ms=9,
                mfc="none",
                label="early stopping keeps",
            )
        axis.set(xlabel="epoch", title=f"seed {seed}: 1,000 images, 40 % shuffled labels")
axes[0].set_ylabel("validation accuracy")
axes[1].legend(fontsize=8)
plt.show()

# %%
none_final = table["no cure"]
check_claim(
    "lesson 6: no cure, best minus final validation accuracy",
    peak["no cure"] - none_final,
    at_least=0.08,
)
check_claim("lesson 6: no cure, final training accuracy", train_acc["no cure"], at_least=0.75)
check_claim(
    "lesson 6: early stopping minus no cure, validation accuracy",
    table["early stopping"] - none_final,
    at_least=0.06,
)
check_claim(
    "lesson 6: dropout minus no cure, validation accuracy",
    table["dropout"] - none_final,
    at_least=0.06,
)
check_claim(
    "lesson 6: weight decay minus no cure, validation accuracy",
    table["weight decay"] - none_final,
    at_least=0.03,
)
check_claim(
    "lesson 6: augmentation minus no cure, validation accuracy",
    table["augmentation"] - none_final,
    at_least=0.03,
)
check_claim(
    "lesson 6: all together minus no cure, validation accuracy",
    table["all together"] - none_final,
    at_least=0.02,
)
check_claim(
    "lesson 6: all together minus the best single cure",
    table["all together"] - max(table[c] for c in table if c not in ("no cure", "all together")),
    at_most=0.0,
)
check_claim(
    "lesson 6: cured runs, highest training accuracy",
    max(train_acc[c] for c in CURES if c != "no cure"),
    at_most=0.65,
)
check_claim(
    "lesson 6: all together, training accuracy below the other cures' by",
    min(train_acc[c] for c in CURES if c != "all together") - train_acc["all together"],
    at_least=0.02,
)
check_claim(
    "lesson 6: early stopping, below the best epoch by",
    peak["no cure"] - table["early stopping"],
    at_most=0.05,
)
check_claim(
    "lesson 6: early stopping and dropout differ by",
    abs(table["early stopping"] - table["dropout"]),
    at_most=0.04,
)
check_claim("lesson 6: dropout, best minus final", peak["dropout"] - table["dropout"], at_most=0.05)
check_claim(
    "lesson 6: augmentation, best minus final",
    peak["augmentation"] - table["augmentation"],
    at_most=0.06,
)
check_claim(
    "lesson 6: fall of no cure minus fall with weight decay",
    (peak["no cure"] - none_final) - (peak["weight decay"] - table["weight decay"]),
    at_least=0.04,
)
lost = peak["no cure"] - none_final
check_claim(
    "lesson 6: weakest single cure, share of the lost accuracy recovered",
    min(
        table[c] - none_final for c in ("early stopping", "dropout", "weight decay", "augmentation")
    )
    / lost,
    at_least=0.4,
)
weight_norms = {cure: sum(study[cure, s][1] for s in SEEDS) / len(SEEDS) for cure in CURES}
check_claim(
    "lesson 6: weight decay over no cure, weight norm",
    weight_norms["weight decay"] / weight_norms["no cure"],
    at_most=0.5,
)

# %% [markdown]
# What each cure did, as the table and the curves say:
#
# * **no cure**: validation accuracy peaks after a few epochs and then falls by more
#   than 8 points, while training accuracy climbs far above the share of labels that are
#   right (about 64 %: the 60 % left alone, plus the shuffled ones that land on their own
#   class by chance): the network is memorising the shuffled ones;
# * **early stopping** keeps an epoch near that peak: the cheapest cure, and here about
#   as good as dropout, since nothing about the later epochs was worth keeping;
# * **dropout** stops the collapse almost entirely; its network cannot rely on single
#   units, and memorising 400 arbitrary answers needs exactly that;
# * **weight decay**, sized to matter, keeps the weights small (their norm ends at less
#   than half of the unregularised run's) and the fall much smaller;
# * **augmentation** turns each memorised picture into a moving target, and the fall
#   nearly disappears too;
# * **all together** is *not* the best, even at milder doses: stacked, the cures hold the
#   network back so much that it underfits in 20 epochs (its training accuracy stays the
#   lowest of all). Regularisation is a dose: add one cure at a time and keep what the
#   validation set rewards.
#
# Every cured run keeps its training accuracy below 65 %, at most the share of labels
# that can be learned. None of them can invent the information that the shuffled labels
# destroyed.

# %% [markdown]
# ### In the playground: noise, too little data, and L2
#
# The same story in two dimensions, where you can watch the boundary. Lesson 2's network
# playground, on XOR data, with only 10 % of its 500 points for training (50 points) and
# a network far bigger than the task needs: three hidden layers of 8 ReLU units. We measure
# the **generalisation gap**, test loss minus training loss, after 300 epochs, for clean
# data, for noisy data (points jittered across the quadrant borders), and for noisy data
# with L2 regularisation (weight decay 0.03).

# %%
from widgets.playground import NetworkPlayground
from widgets.playground_model import PlaygroundModel

small_xor = dict(
    dataset="xor",
    train_fraction=0.1,
    hidden=(8, 8, 8),
    activation="relu",
    lr=0.03,
    batch_size=10,
    seed=course_seed(0),
)


def playground_gap(**settings):
    """A fresh playground model trained 300 epochs, and its test loss minus training loss."""
    model = PlaygroundModel(**small_xor, **settings)
    model.run(epochs=300)
    return model, model.test_loss - model.train_loss


clean, clean_gap = playground_gap(noise=0.0)
noisy, noisy_gap = playground_gap(noise=0.6)
noisy_l2, l2_gap = playground_gap(noise=0.6, regularization="L2", regularization_rate=0.03)
check_claim("lesson 6: playground noisy XOR, test-loss gap", noisy_gap, at_least=0.15)
check_claim("lesson 6: playground gap added by noise", noisy_gap - clean_gap, at_least=0.1)
check_claim("lesson 6: playground gap removed by L2", noisy_gap - l2_gap, at_least=0.1)
check_claim(
    "lesson 6: playground test loss lowered by L2",
    noisy.test_loss - noisy_l2.test_loss,
    at_least=0.03,
)
for name, model, gap in (
    ("clean data", clean, clean_gap),
    ("noisy data", noisy, noisy_gap),
    ("noisy data + L2", noisy_l2, l2_gap),
):
    print(
        f"{name:16s} train loss {model.train_loss:.2f}, test loss {model.test_loss:.2f}, "
        f"gap {gap:.2f}"
    )

# %% [markdown]
# On clean data the 50 points pin the boundary to the axes and the gap stays small. Noise
# puts some points on the wrong side: the big network bends around each of them, the
# training loss keeps falling, and the test loss pays for it. L2 keeps the weights small,
# the boundary smooth, and the gap a fraction of its size. Below is the noisy, unregularised
# network: set *regularise* to L2 or L1 (or raise *dropout*), press ▶ and watch the
# pockets around single points disappear; *reset* to start over with the new setting.

# %%
NetworkPlayground(noisy)

# %% [markdown]
# ## 6. Transfer learning (14 min)
#
# A network's hidden layers learn **features**; the last layer only combines them into a
# decision. Features learned on one task can help another, which matters most when the
# new task has few labels. Whether they do is a question for an experiment.
#
# **The setting.** A network was trained on plenty of clean Fashion-MNIST photos. Now the
# same ten classes arrive from a new camera with a poor sensor: every pixel carries
# strong noise (Gaussian, standard deviation 1.5 in the standardised units, more than the
# picture's own contrast), and only **k labelled images per class** exist from it. Three
# ways to learn the new task, each with a new last layer:
#
# * **frozen features**: keep the pretrained layers fixed, train only the new last layer;
# * **fine-tuning**: start from the pretrained layers and train everything, the
#   pretrained part with a 10x smaller learning rate (and, to see why, once with one
#   rate for all);
# * **from scratch**: the same network, randomly initialised (the baseline every
#   transfer experiment needs).

# %% tags=["nbval-check-output"]
show_source(sensor_noise, transfer_model)

# %%
SIGMA, PRETRAIN_SIZE = 1.5, 10_000


def feature_network():
    """784 pixels -> 128 features; a task adds its own last layer on top."""
    return nn.Sequential(make_mlp([784, 256, 128]), nn.ReLU())


def pretrain(X, y, n_classes):
    """Two epochs on plenty of labels; the trained model and a copy of its feature weights."""
    seed_everything(0)
    features = feature_network()
    model = nn.Sequential(features, nn.Linear(128, n_classes))
    fit(model, batches(X, y), loss_fn, torch.optim.Adam(model.parameters(), lr=1e-3), epochs=2)
    return model, {name: value.clone() for name, value in features.state_dict().items()}


def learn_new_task(mode, X, y, test, n_classes, pretrained_features):
    """One of the transfer modes, trained on the few labelled images (one batch, 60 steps)."""
    seed_everything(10)
    model, optimizer = transfer_model(
        feature_network(),
        nn.Linear(128, n_classes),
        mode,
        lr=3e-3,
        pretrained=pretrained_features,
    )
    fit(model, [(X, y)], loss_fn, optimizer, epochs=60)
    return evaluate(model, test, loss_fn)[1]


clean_model, clean_features = pretrain(X_train[:PRETRAIN_SIZE], y_train[:PRETRAIN_SIZE], 10)
noisy_test = [(sensor_noise(X_test[:2000], SIGMA, seed=999), y_test[:2000])]  # fixed test data
print(
    f"pretrained on {PRETRAIN_SIZE:,} clean images: "
    f"{evaluate(clean_model, [(X_test[:2000], y_test[:2000])], loss_fn)[1]:.1%} on clean test "
    f"images, {evaluate(clean_model, noisy_test, loss_fn)[1]:.1%} on the noisy ones"
)
check_claim(
    "lesson 6: pretrained network, accuracy on noisy test images",
    evaluate(clean_model, noisy_test, loss_fn)[1],
    at_least=0.65,
)

figure, axes = plt.subplots(2, 6, figsize=(9, 3.2))
for column in range(6):
    for row, pictures in enumerate((X_test, noisy_test[0][0])):
        axes[row, column].imshow(pictures[column].reshape(28, 28), cmap="gray_r")
        axes[row, column].axis("off")
    axes[0, column].set_title(CLASS_NAMES[y_test[column]], fontsize=8)
figure.suptitle("the same test images: clean (top) and through the noisy sensor (bottom)")
plt.show()

# %%
LABELS_PER_CLASS = (2, 5, 10, 25)
MODES = ("from scratch", "frozen features", "fine-tuning", "fine-tuning, one rate")
shifted = {}
for k in LABELS_PER_CLASS:
    # which k images get labels varies with the course seed; they come after the pretraining set
    picked = PRETRAIN_SIZE + first_per_class(
        y_train[PRETRAIN_SIZE:], k, range(10), skip=50 * course_seed(0)
    )
    X_k, y_k = sensor_noise(X_train[picked], SIGMA, seed=course_seed(1000)), y_train[picked]
    for mode in MODES:
        shifted[mode, k] = learn_new_task(mode, X_k, y_k, noisy_test, 10, clean_features)

figure, axis = plt.subplots(figsize=(7, 3.8))
for mode, style in zip(MODES, ("C3o-", "C0s-", "C2^-", "C2^:"), strict=True):
    axis.plot(LABELS_PER_CLASS, [shifted[mode, k] for k in LABELS_PER_CLASS], style, label=mode)
axis.set(
    xscale="log",
    xticks=LABELS_PER_CLASS,
    xticklabels=LABELS_PER_CLASS,
    xlabel="labelled noisy images per class (k)",
    ylabel="test accuracy (noisy images)",
    title="transfer under a domain shift: pretrained features win when labels are few",
)
axis.minorticks_off()  # only the four k values on the log axis
axis.legend()
plt.show()
for k in LABELS_PER_CLASS:
    print(f"k = {k:2d}: " + ", ".join(f"{mode} {shifted[mode, k]:.1%}" for mode in MODES))


# %%
def advantage(mode, k):
    return shifted[mode, k] - shifted["from scratch", k]


check_claim(
    "lesson 6: k=2, frozen features minus from scratch",
    advantage("frozen features", 2),
    at_least=0.15,
)
check_claim(
    "lesson 6: k=2, fine-tuning minus from scratch", advantage("fine-tuning", 2), at_least=0.15
)
check_claim(
    "lesson 6: k=25, frozen features minus from scratch",
    advantage("frozen features", 25),
    at_least=0.08,
)
check_claim(
    "lesson 6: k=25, fine-tuning minus from scratch", advantage("fine-tuning", 25), at_least=0.08
)
check_claim(
    "lesson 6: frozen features' lead, k=2 minus k=25",
    advantage("frozen features", 2) - advantage("frozen features", 25),
    at_least=0.05,
)
check_claim(
    "lesson 6: k=2, fine-tuning minus one rate for all",
    shifted["fine-tuning", 2] - shifted["fine-tuning, one rate", 2],
    at_least=0.02,
)
check_claim(
    "lesson 6: k=5, fine-tuning minus one rate for all",
    shifted["fine-tuning", 5] - shifted["fine-tuning, one rate", 5],
    at_least=0.02,
)

check_claim(
    "lesson 6: k=2, frozen features minus fine-tuning",
    shifted["frozen features", 2] - shifted["fine-tuning", 2],
    at_least=-0.05,
)

# %% [markdown]
# Here transfer pays, and most when labels are fewest: with 2 noisy images per class the
# pretrained features beat training from scratch by more than 15 points, and with 25 they
# are still ahead, by a smaller margin (the lead shrinks as labels grow). Why: the
# features were learned from 10,000 clean images, where shapes are visible. Each of them
# sums many pixels, so the independent noise on those pixels largely averages out. A
# network trained from scratch on 20 noisy images has no way to tell shape from noise,
# and fits both. (Here the new classes are the old ones, so the old network with its own
# last layer already recognises most noisy test images, over 65 %: its features survive
# the noise. A new last layer is what a new task with other classes needs.)
#
# **Why a lower rate for the pretrained layers.** Fine-tuning with one rate for all
# (dotted) loses part of the advantage: the new last layer starts random, so the first
# gradients are large and mostly noise from a handful of images, and at the full rate
# they overwrite the pretrained features before the head has learned to use them. A 10x
# smaller rate lets the body adapt without forgetting. With 2 labels per class, freezing
# is as good as fine-tuning here (within a few points), and cheaper.
#
# ### The control: where transfer does not pay
#
# Now the other way round. Pretrain on classes 0 to 4 only (tops, trousers, pullovers,
# dresses, coats), then learn classes 5 to 9 (sandals, shirts, sneakers, bags, ankle
# boots) from 20 clean labelled images per class:

# %%
first_five = y_train[:PRETRAIN_SIZE] < 5
_, top_features = pretrain(
    X_train[:PRETRAIN_SIZE][first_five], y_train[:PRETRAIN_SIZE][first_five], 5
)
picked = PRETRAIN_SIZE + first_per_class(
    y_train[PRETRAIN_SIZE:], 20, range(5, 10), skip=50 * course_seed(0)
)
last_five = y_test >= 5
control_test = [(X_test[last_five][:2000], y_test[last_five][:2000] - 5)]
control = {
    mode: learn_new_task(mode, X_train[picked], y_train[picked] - 5, control_test, 5, top_features)
    for mode in MODES[:3]
}
for mode, accuracy in control.items():
    print(f"{mode:16s} {accuracy:.1%} test accuracy on classes 5-9 (from 100 labels)")

# %%
check_claim(
    "lesson 6: control, from scratch minus frozen features",
    control["from scratch"] - control["frozen features"],
    at_least=0.03,
)
check_claim(
    "lesson 6: control, fine-tuning and from scratch differ by",
    abs(control["fine-tuning"] - control["from scratch"]),
    at_most=0.05,
)
check_claim("lesson 6: control, from scratch accuracy", control["from scratch"], at_least=0.75)

# %% [markdown]
# Here transfer does **not** pay: the frozen features are clearly worse than training
# from scratch, and fine-tuning only catches up. The features were learned to tell tops
# from trousers from coats; shoes and bags were never part of that job, so the 128
# features throw away exactly the details that separate a sandal from a sneaker. And
# clean shoes and bags are easy enough that 100 labels suffice from scratch.
#
# Transfer pays when the old task **shares features** with the new one (the same objects
# through another sensor; ImageNet's photos for your photos; one language for another)
# and the new labels are too few to learn them. It does not when the old features ignore
# what the new task needs. So always train the from-scratch baseline next to it, as here,
# and let a validation set decide.

# %% [markdown]
# ### Optional: a network pretrained on ImageNet
#
# torchvision offers networks pretrained on 1.2 million photos (`weights=...`). The cell
# below repeats the control's frozen-features experiment with its small MobileNet when the weights
# are in torchvision's local cache. To download them (about 10 MB), set
# `DOWNLOAD_PRETRAINED = True` and run the cell again; otherwise it says so and moves on.
# (The course never downloads on its own: a classroom may be offline, and a test run
# must not depend on the internet.)

# %%
from torchvision.models import MobileNet_V3_Small_Weights, mobilenet_v3_small

DOWNLOAD_PRETRAINED = False
weights = MobileNet_V3_Small_Weights.DEFAULT
cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
if not (cached.exists() or DOWNLOAD_PRETRAINED):
    print(
        "The pretrained MobileNet weights are not in torchvision's cache, so this optional "
        "part is skipped. Set DOWNLOAD_PRETRAINED = True (online) to fetch them."
    )
else:
    imagenet = mobilenet_v3_small(weights=weights).eval()
    imagenet.classifier = nn.Identity()  # keep the 576 features, drop ImageNet's 1000 classes

    def imagenet_features(X):
        pictures = (X.reshape(-1, 1, 28, 28) * STD + MEAN).expand(-1, 3, -1, -1)
        pictures = nn.functional.interpolate(pictures, size=64, mode="bilinear")
        pictures = v2.Normalize(weights.transforms().mean, weights.transforms().std)(pictures)
        with torch.no_grad():
            return torch.cat([imagenet(part) for part in pictures.split(250)])

    train_features = imagenet_features(X_train[picked])
    test_features = imagenet_features(control_test[0][0][:1000])
    seed_everything(1)
    head = nn.Linear(train_features.shape[1], 5)
    fit(
        head,
        batches(train_features, y_train[picked] - 5, 25),
        loss_fn,
        torch.optim.Adam(head.parameters(), lr=1e-3),
        epochs=40,
    )
    _, imagenet_acc = evaluate(
        head, batches(test_features, control_test[0][1][:1000], 1000, False), loss_fn
    )
    print(
        f"ImageNet features, frozen: {imagenet_acc:.1%} on classes 5-9 (Fashion-MNIST features: "
        f"{control['frozen features']:.1%})"
    )

# %% [markdown]
# ## 7. Putting it together: about 90 % with an MLP (8 min)
#
# Everything above in one run on the full training set: batch normalisation, AdamW with a
# little weight decay, a OneCycle schedule stepped every batch, large batches (fewer,
# faster steps), and lesson 5's monitor to watch it. It is the longest run of the lesson:
# ten epochs over 60,000 images.

# %%
seed_everything(0)
loaders = make_loaders("fashion-mnist", batch_size=256, seed=course_seed(0))
EPOCHS = 10
final_model = make_mlp([784, 256, 256, 10], batch_norm=True).to(device)
optimizer = torch.optim.AdamW(final_model.parameters(), lr=5e-3, weight_decay=1e-4)
scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=EPOCHS * len(loaders.train))
optimizer.register_step_post_hook(lambda *_: scheduler.step())
monitor = TrainingMonitor(title="MLP 784-256-256-10, batch norm, AdamW, OneCycle")
final_history = fit(
    final_model, loaders.train, loss_fn, optimizer, epochs=EPOCHS, device=device, monitor=monitor
)

# %%
test_loss, test_accuracy = evaluate(final_model, loaders.test, loss_fn, device)
print(f"test accuracy after {EPOCHS} epochs: {test_accuracy:.1%}")
check_claim("lesson 6: final MLP test accuracy", test_accuracy, at_least=0.89)

# %% [markdown]
# (The test set is used here only to report the final number. To *choose* settings
# such as the number of epochs, use a validation split, as sections 4 and 5 did.)

# %% [markdown]
# ### On a GPU
#
# `pick_device()` chose where the run above trained. On a machine with a CUDA or Apple
# (MPS) GPU, the cell below times one epoch of the same loop on the CPU and on the GPU.


# %%
def seconds_per_epoch(where):
    seed_everything(0)
    model = make_mlp([784, 256, 256, 10], batch_norm=True).to(where)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    train_one_epoch(model, loaders.train, loss_fn, optimizer, where)  # warm-up: kernels, caches
    started = time.perf_counter()
    train_one_epoch(model, loaders.train, loss_fn, optimizer, where)
    if torch.device(where).type == "cuda":
        torch.cuda.synchronize()  # GPU work runs asynchronously; wait before reading the clock
    return time.perf_counter() - started


if device.type in ("cuda", "mps"):
    cpu_seconds, gpu_seconds = seconds_per_epoch("cpu"), seconds_per_epoch(device)
    print(
        f"one epoch: CPU {cpu_seconds:.1f} s, {device.type.upper()} {gpu_seconds:.1f} s, "
        f"{cpu_seconds / gpu_seconds:.1f}x faster"
    )
else:
    print("No CUDA or MPS GPU on this machine, so there is no GPU speed-up to measure here.")

# %% [markdown]
# ## 8. Try it on CIFAR-10
#
# CIFAR-10 has 60,000 colour photos of 32×32 pixels in 10 classes (planes, cars, birds,
# cats, ...). It is much harder for an MLP: objects appear anywhere, in any colour, on any
# background. When the data is on your machine, the cell below trains the same recipe on
# it; otherwise it says how to get it.

# %%
if data.is_present("cifar10"):
    seed_everything(0)
    cifar = make_loaders("cifar10", batch_size=256, train_size=10_000)
    cifar_model = make_mlp([3 * 32 * 32, 256, 10], batch_norm=True).to(device)
    cifar_optimizer = torch.optim.AdamW(cifar_model.parameters(), lr=3e-3, weight_decay=1e-4)
    cifar_scheduler = lr_scheduler.OneCycleLR(
        cifar_optimizer, max_lr=3e-3, total_steps=5 * len(cifar.train)
    )
    cifar_optimizer.register_step_post_hook(lambda *_: cifar_scheduler.step())
    fit(cifar_model, cifar.train, loss_fn, cifar_optimizer, epochs=5, device=device)
    _, cifar_accuracy = evaluate(cifar_model, cifar.test, loss_fn, device)
    print(
        f"CIFAR-10, MLP on 10,000 images, 5 epochs: {cifar_accuracy:.1%} test accuracy "
        "(chance: 10 %; convolutional networks reach over 90 %)"
    )
    assert cifar_accuracy > 0.30
else:
    print(
        f"CIFAR-10 is not in {data.data_root()}. To try this section, run `make data` "
        "(or `python -m widgets.data fetch cifar10`) on a machine that is online, then run "
        "this cell again."
    )

# %% [markdown]
# ## Common mistakes
#
# * **Saving only the weights** and calling it a checkpoint: the optimizer's state and the
#   scheduler's position are lost, and the resumed run differs from the uninterrupted one.
# * **`torch.load` without `weights_only=True`** on a file from someone else: unpickling can
#   run any code. (Recent PyTorch makes `weights_only=True` the default.)
# * **Stepping a per-batch schedule once per epoch** (or the other way round): OneCycle's
#   `total_steps` counts batches; stepped per epoch it barely leaves its warm-up.
# * **Evaluating in training mode**: dropout still drops and batch norm uses the batch's
#   statistics; call `model.eval()` (lesson 5's `evaluate` does).
# * **Class folders named in a different order** than you think: classes are numbered by
#   the sorted folder names; check `dataset.classes`.
# * **Choosing the epoch with the test set**: early stopping watches a *validation* set.

# %% [markdown]
# ## Check your understanding
#
# 1. A run with dropout and a shuffled `DataLoader` is resumed from a checkpoint that has
#    the model, the optimizer and the scheduler, but no random state. Are the losses
#    after the resume the same as without the interruption? Why?
# 2. Why does `atomic_torch_save` write to a temporary file in the **same folder** as the
#    target, rather than in `/tmp`?
# 3. Your model predicts well on batches of 256 but differently for each image when you
#    call it on one image at a time. Which layer, and which line is missing?
# 4. A new scanner gives you 50 labelled, noisy images (5 per class) of the classes a
#    network was pretrained on, from clean images of an old scanner. From scratch, frozen
#    features or fine-tuning, and with which learning rates?
# 5. Training in batches of 16 is too slow for you, so you switch to batches of 256 and
#    keep everything else. What happens to the accuracy after the same number of
#    epochs, and what do you change?
#
# <details><summary>Answers</summary>
#
# 1. No. The next shuffle and the next dropout masks come from the random generators; a
#    fresh process starts them elsewhere, so the batches and masks differ (section 2 shows
#    it). The run is still valid, just not identical.
# 2. `os.replace` is atomic only within one file system; `/tmp` is often another one, and
#    then the "rename" becomes a copy that can be interrupted halfway. In the same folder
#    the temporary file is on the target's file system by construction.
# 3. Batch normalisation, still in training mode: it normalises with the statistics of
#    whatever batch it is given (and refuses a batch of one). Call `model.eval()` before
#    predicting; then one image at a time gives the same answers as the batch.
# 4. Pretrained features: with 5 labels per class, frozen features and fine-tuning both
#    beat training from scratch by far (section 6). Fine-tune with a smaller rate for the
#    pretrained layers than for the new head; one rate for all loses part of the gain.
#    Keep a from-scratch baseline anyway: when the old task ignored what the new one
#    needs (the control), scratch wins.
# 5. Fewer steps per epoch: at the same learning rate the accuracy after the same
#    epochs drops. Raise the learning rate with the batch size (section 4: 5x the rate
#    recovered part of the lost accuracy), with warm-up or batch norm if it turns unstable.
# </details>
#
# The cells below check each answer with an experiment.

# %%
# 1. Without the random state the resumed losses differ; with it they are identical.
assert without_rng != uninterrupted[3:] and first_part + second_part == uninterrupted

# 2. While torch.save writes, the only new file is a temporary one beside the target.
files_while_saving = []


class ListsTheFolderWhenSaved:
    def __reduce__(self):  # pickle calls this in the middle of writing the file
        files_while_saving.extend(path.name for path in (WORK / "answer-2").iterdir())
        return (int, (0,))


saved = atomic_torch_save({"probe": ListsTheFolderWhenSaved()}, WORK / "answer-2" / "run.pt")
print("files in the target's folder while saving:", files_while_saving)
assert len(files_while_saving) == 1 and files_while_saving[0].startswith(".run.pt.")
assert [path.name for path in saved.parent.iterdir()] == ["run.pt"]

# 3. In training mode an image's output depends on its batch; in evaluation mode it does not.
with torch.no_grad():
    normed.train()
    in_big_batch, in_small_batch = normed(X_val[:256])[:4], normed(X_val[:4])
    normed.eval()
    whole_batch = normed(X_val[:256])
    one_at_a_time = torch.cat([normed(X_val[i : i + 1]) for i in range(256)])
assert not torch.allclose(in_big_batch, in_small_batch, atol=1e-3)
assert torch.allclose(whole_batch, one_at_a_time, atol=1e-5)

# %%
# 4. At 5 labels per class under the new sensor:
check_claim(
    "lesson 6: answer 4, k=5, frozen features minus from scratch",
    advantage("frozen features", 5),
    at_least=0.1,
)
check_claim(
    "lesson 6: answer 4, k=5, fine-tuning minus from scratch",
    advantage("fine-tuning", 5),
    at_least=0.1,
)
# ... and in the control, from scratch wins:
assert control["from scratch"] > control["frozen features"]
# 5. Batch 256 at the same rate learns less per epoch; a larger rate recovers part of it.
check_claim(
    "lesson 6: answer 5, batch 16 minus batch 256 at lr 0.1",
    batch_runs[16, 0.02]["val_acc"] - batch_runs[256, 0.1]["val_acc"],
    at_least=0.01,
)
print("all five answers agree with the experiments")

# %% [markdown]
# ## Summary
#
# * A `Dataset` gives one example (`__len__`, `__getitem__`); a `DataLoader` batches,
#   shuffles, loads in `num_workers` processes and glues with a `collate_fn`.
#   `ImageFolderDataset` reads one folder per class; `pad_collate` handles mixed sizes.
# * A checkpoint holds the model, optimizer, scheduler, epoch and random state; with all
#   five, a resumed run equals the uninterrupted one exactly. Save atomically, load with
#   `weights_only=True`, and expect a clear error when the architecture differs.
# * Schedules: annealing beats a constant rate; cosine and OneCycle are good defaults.
#   Warm-up keeps Adam's first full-size steps from throwing the loss above where it
#   started. Per-batch schedules step per batch.
# * Dropout and batch norm behave differently in training and evaluation mode; batch
#   norm refuses a batch of one in training mode. Batch norm let a deep MLP train at a
#   rate where it diverges without; gradient clipping rescued a run that a too-large
#   rate wrecked. Larger batches make an epoch cheaper but, at the same rate, teach less
#   per epoch; raise the rate with the batch.
# * On 1,000 images with 40 % shuffled labels, early stopping, dropout, weight decay
#   (sized to matter) and augmentation each won back a large share (at least 40 %) of
#   the accuracy that memorising cost; all of them at once underfit. Regularisation is
#   a dose.
# * Under a domain shift with few labels, pretrained features beat training from scratch
#   by far, most at the fewest labels; fine-tune the pretrained layers with a smaller
#   rate. When the old features ignore what the new task needs, scratch wins.
# * Batch norm, AdamW and OneCycle take an MLP to about 90 % on Fashion-MNIST in ten epochs.
#
# **Exercise:** [06-advanced-pytorch](exercises/06-advanced-pytorch.ipynb): checkpoints,
# schedules and regularisation on your own runs.
#
# This is the last lesson. **Back to the [course map](../README.md#course-map)**, where the
# README lists every lesson and exercise; from here, convolutional networks are the
# natural next step for images.

# %%
print(f"lesson 6 ran in {time.perf_counter() - lesson_started:.0f} s")
shutil.rmtree(WORK, ignore_errors=True)  # the checkpoints served this run only
