# %% [markdown]
# # 6 · PyTorch advanced (90 min)
#
# Lesson 5 trained a network with the standard loop. This lesson turns that loop into
# the way real projects train: on **your own files**, in runs that can be **stopped and
# resumed exactly**, with **learning-rate schedules**, with **regularisation** that
# demonstrably cures overfitting, and by **reusing** a network trained on another task.
#
# **By the end of this lesson you can**
#
# 1. write a `Dataset` over a folder of images, and use a `DataLoader`'s batching,
#    shuffling, workers and `collate_fn`;
# 2. save and load checkpoints (model, optimizer, scheduler, epoch, random state) so a
#    resumed run is *identical* to an uninterrupted one, safely and atomically;
# 3. choose between StepLR, cosine annealing, warm-up and OneCycle schedules;
# 4. explain what dropout and batch normalisation do in training and evaluation mode,
#    and cure overfitting with dropout, weight decay and early stopping;
# 5. transfer a trained network to a new task with few labels (frozen features versus
#    fine-tuning versus training from scratch);
# 6. combine it all into an MLP that reaches about 90 % test accuracy on Fashion-MNIST.
#
# The training loops are lesson 5's (`widgets.torch_training`); the new reusable pieces
# live in `widgets/image_folder.py` and `widgets/checkpoint.py`, shown and explained here.
# Everything this notebook writes goes to the data folder or to a temporary folder.

# %%
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
from widgets.torch_training import (
    evaluate,
    fit,
    load_tensors,
    make_loaders,
    make_mlp,
    pixel_statistics,
)

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
# ## 1. Your own data: `Dataset` and `DataLoader` (15 min)
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

# %% tags=["nbval-check-output"]
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

# %% tags=["nbval-check-output"]
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
# ## 2. Checkpoints: stop and resume exactly (15 min)
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

# %%
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
# ## 3. Learning-rate schedules (15 min)
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
# OneCycle need only the run's length, which makes them good defaults; section 6 uses
# OneCycle.

# %% [markdown]
# ## 4. Regularisation (20 min)
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
# change with the batch, and a batch of one raises an error
# (`Expected more than 1 value per channel when training`). Lesson 5's `evaluate` switches
# to evaluation mode for you.
#
# ### Overfitting, and its cure
#
# With 500 training images and 270,000 weights, a network can memorise the training set.
# The signature: the training loss falls towards zero while the validation loss turns
# around and **rises**. We watch both with lesson 5's `fit`, whose `on_epoch_end`
# callback sees each epoch's numbers and can stop training early.

# %%
X_small, y_small = X_train[:500], y_train[:500]
small_loader = batches(X_small, y_small, batch_size=50)
val_loader = batches(X_val[:2000], y_val[:2000], batch_size=2000, shuffle=False)


def train_small(model, optimizer, epochs, best=None, patience=None):
    """Lesson 5's fit; with ``best`` keep the best checkpoint, with ``patience`` stop early."""

    def keep_best(record):  # fit calls it after every epoch; returning True stops training
        best.update(record["val_loss"], model, epoch=record["epoch"])
        return patience is not None and best.epochs_since_best >= patience

    return fit(
        model,
        small_loader,
        loss_fn,
        optimizer,
        epochs=epochs,
        val_loader=val_loader,
        on_epoch_end=None if best is None else keep_best,
    )


seed_everything(0)
overfit_model = make_mlp([784, 256, 256, 10])
overfit = train_small(
    overfit_model, torch.optim.Adam(overfit_model.parameters(), lr=1e-3), epochs=40
)
lowest = min(overfit, key=lambda r: r["val_loss"])
print(f"training accuracy {overfit[-1]['acc']:.0%}, training loss {overfit[-1]['loss']:.4f}")
print(
    f"validation loss: lowest {lowest['val_loss']:.3f} at epoch {lowest['epoch']}, "
    f"{overfit[-1]['val_loss']:.3f} at epoch 40"
)
check_claim("lesson 6: overfit run, final training accuracy", overfit[-1]["acc"], at_least=0.99)
check_claim("lesson 6: overfit run, final training loss", overfit[-1]["loss"], at_most=0.01)
check_claim(
    "lesson 6: overfit run, final over lowest validation loss",
    overfit[-1]["val_loss"] / lowest["val_loss"],
    at_least=1.3,
)

# %% [markdown]
# **The cure**, three tools together:
#
# * **dropout** (0.5 on both hidden layers);
# * **weight decay**: each step also shrinks every weight, $w \leftarrow w - \eta\lambda w$,
#   which prefers small weights (for plain SGD it equals adding $\frac{\lambda}{2}\lVert w\rVert^2$
#   to the loss, L2 regularisation; for Adam use `AdamW`, whose decay is not distorted
#   by Adam's per-weight scaling);
# * **early stopping**: keep the checkpoint with the lowest validation loss
#   (`BestCheckpoint`) and stop when it has not improved for `patience` epochs.

# %% tags=["nbval-check-output"]
show_source(BestCheckpoint.update)

# %%
seed_everything(0)
cured_model = make_mlp([784, 256, 256, 10], dropout=0.5)
best = BestCheckpoint(WORK / "best.pt")
cured = train_small(
    cured_model,
    torch.optim.AdamW(cured_model.parameters(), lr=1e-3, weight_decay=0.1),
    epochs=40,
    best=best,
    patience=5,
)
best.restore(cured_model)
cured_val_loss, cured_val_acc = evaluate(cured_model, val_loader, loss_fn)
print(f"stopped after epoch {cured[-1]['epoch']}, best epoch {best.best_epoch}")
print(
    f"validation loss {cured_val_loss:.3f} (overfit run, end: {overfit[-1]['val_loss']:.3f}), "
    f"accuracy {cured_val_acc:.1%} (overfit run: {overfit[-1]['val_acc']:.1%})"
)
assert cured_val_loss == best.best_value
check_claim(
    "lesson 6: regularised over overfit validation loss",
    cured_val_loss / overfit[-1]["val_loss"],
    at_most=0.7,
)
check_claim(
    "lesson 6: regularised minus overfit validation accuracy",
    cured_val_acc - overfit[-1]["val_acc"],
    at_least=-0.05,
)  # about the same accuracy (not better: see below)

# %% [markdown]
# The validation loss drops by about a third, while the accuracy stays within a few points.
# With 500 images, memorising shows first in the *loss*: cross-entropy punishes confident
# mistakes, and the overfit network has become very sure of its wrong answers. Its
# confidence in the label it picks, on the validation images it gets wrong:


# %%
def confidence_when_wrong(model):
    model.eval()
    with torch.no_grad():
        probabilities = model(X_val[:2000]).softmax(dim=1)
    wrong = probabilities.argmax(dim=1) != y_val[:2000]
    return probabilities.max(dim=1).values[wrong].mean().item()


overconfident, calibrated = confidence_when_wrong(overfit_model), confidence_when_wrong(cured_model)
print(f"mean confidence on its mistakes: overfit {overconfident:.0%}, regularised {calibrated:.0%}")
check_claim(
    "lesson 6: confidence on mistakes, overfit minus regularised",
    overconfident - calibrated,
    at_least=0.1,
)

# %% [markdown]
# Regularisation cannot invent the information that 500 images lack; for accuracy, more
# data (or augmentation, section 1's flips) is the strongest cure. What it does is keep
# the network honest about its uncertainty, and early stopping picks the epoch for you.

# %%
figure, axis = plt.subplots(figsize=(7, 3.6))
for name, history, colour in (
    ("no regularisation", overfit, "C3"),
    ("dropout + weight decay", cured, "C0"),
):
    epochs = [r["epoch"] for r in history]
    axis.plot(
        epochs,
        [r["loss"] for r in history],
        color=colour,
        linestyle="--",
        label=f"{name}: training",
    )
    axis.plot(epochs, [r["val_loss"] for r in history], color=colour, label=f"{name}: validation")
axis.axvline(best.best_epoch, color="C0", linestyle=":", label="best checkpoint (early stopping)")
axis.set(xlabel="epoch", ylabel="cross-entropy loss", ylim=(0, 2), title="500 training images")
axis.legend(fontsize=8)
plt.show()

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
# ## 5. Transfer learning (15 min)
#
# A network's hidden layers learn **features**; the last layer only combines them into a
# decision. Features learned on one task can help another, which matters most when the
# new task has few labels. Whether they do is a question for an experiment:
#
# 1. **pretrain** on Fashion-MNIST classes 0 to 4 (tops, trousers, pullovers, dresses,
#    coats) with plenty of labels;
# 2. learn classes 5 to 9 (sandals, shirts, sneakers, bags, ankle boots) from only
#    **20 labelled images per class**, three ways:
#    * **frozen features**: keep the pretrained layers fixed, train a new last layer;
#    * **fine-tuning**: start from the pretrained layers and train everything, the
#      pretrained part with a smaller learning rate;
#    * **from scratch**: the same network, randomly initialised.


# %%
def feature_network():
    """784 pixels -> 128 features; a task adds its own last layer on top."""
    return nn.Sequential(make_mlp([784, 256, 128]), nn.ReLU())


first_classes = y_train < 5
seed_everything(0)
features = feature_network()
pretrained = nn.Sequential(features, nn.Linear(128, 5))
fit(
    pretrained,
    batches(X_train[first_classes][:10_000], y_train[first_classes][:10_000]),
    loss_fn,
    torch.optim.Adam(pretrained.parameters(), lr=1e-3),
    epochs=3,
)
test_first = y_test < 5
_, pretrain_acc = evaluate(
    pretrained, batches(X_test[test_first], y_test[test_first], 5000, False), loss_fn
)
print(f"pretrained on classes 0-4: {pretrain_acc:.1%} test accuracy on those classes")
features_path = atomic_torch_save(features.state_dict(), WORK / "features.pt")

# %%
PER_CLASS = 20
few_indices = torch.cat([torch.nonzero(y_train == c).flatten()[:PER_CLASS] for c in range(5, 10)])
few_loader = batches(X_train[few_indices], y_train[few_indices] - 5, batch_size=25)
test_second = y_test >= 5
second_test = batches(X_test[test_second], y_test[test_second] - 5, 5000, shuffle=False)


def transfer(mode):
    seed_everything(1)
    body = feature_network()
    if mode != "from scratch":
        body.load_state_dict(torch.load(features_path, weights_only=True))
    model = nn.Sequential(body, nn.Linear(128, 5))
    if mode == "frozen features":
        body.requires_grad_(False)  # no gradients, so the optimizer leaves them alone
        groups = [{"params": model[1].parameters()}]
    elif mode == "fine-tuning":
        groups = [{"params": body.parameters(), "lr": 1e-4}, {"params": model[1].parameters()}]
    else:
        groups = [{"params": model.parameters()}]
    fit(model, few_loader, loss_fn, torch.optim.Adam(groups, lr=1e-3), epochs=40)
    return evaluate(model, second_test, loss_fn)[1]


transfer_acc = {mode: transfer(mode) for mode in ("frozen features", "fine-tuning", "from scratch")}
for mode, accuracy in transfer_acc.items():
    print(f"{mode:16s} {accuracy:.1%} test accuracy on classes 5-9 (from {5 * PER_CLASS} labels)")
check_claim(
    "lesson 6: fine-tuning minus frozen features",
    transfer_acc["fine-tuning"] - transfer_acc["frozen features"],
    at_least=0.05,
)
check_claim(
    "lesson 6: fine-tuning and from scratch differ by",
    abs(transfer_acc["fine-tuning"] - transfer_acc["from scratch"]),
    at_most=0.03,
)
check_claim(
    "lesson 6: from scratch minus frozen features",
    transfer_acc["from scratch"] - transfer_acc["frozen features"],
    at_least=0.0,
)

# %% [markdown]
# A result worth reading twice: here transfer does **not** pay. The frozen features are
# clearly worse than training from scratch, and fine-tuning only catches up. The features
# were learned to tell tops from trousers from coats; shoes and bags were never part of
# that job, so the 128 features throw away exactly the details that separate a sandal
# from a sneaker. And classes 5 to 9 are easy enough that 100 labels suffice from scratch.
#
# Transfer pays when the old task **shares features** with the new one and the new
# labels are too few to learn them: ImageNet's photos for your photos (next cell), one
# language for another. So always train the from-scratch baseline next to it, as here:
# fine-tuning is the safe choice (it can move away from unhelpful features), freezing
# the cheap one when the features fit.

# %% [markdown]
# ### Optional: a network pretrained on ImageNet
#
# torchvision offers networks pretrained on 1.2 million photos (`weights=...`). The cell
# below repeats the frozen-features experiment with its small MobileNet when the weights
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

    train_features = imagenet_features(X_train[few_indices])
    test_features = imagenet_features(X_test[test_second][:1000])
    seed_everything(1)
    head = nn.Linear(train_features.shape[1], 5)
    fit(
        head,
        batches(train_features, y_train[few_indices] - 5, 25),
        loss_fn,
        torch.optim.Adam(head.parameters(), lr=1e-3),
        epochs=40,
    )
    _, imagenet_acc = evaluate(
        head, batches(test_features, y_test[test_second][:1000] - 5, 1000, False), loss_fn
    )
    print(
        f"ImageNet features, frozen: {imagenet_acc:.1%} on classes 5-9 (Fashion-MNIST features: "
        f"{transfer_acc['frozen features']:.1%})"
    )

# %% [markdown]
# ## 6. Putting it together: about 90 % with an MLP (10 min)
#
# Everything above in one run on the full training set: batch normalisation, AdamW with a
# little weight decay, a OneCycle schedule stepped every batch, large batches (fewer,
# faster steps), and lesson 5's monitor to watch it. Ten epochs take about 15 seconds on
# one CPU core.

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
# such as the number of epochs, use a validation split, as section 4 did.)

# %% [markdown]
# ## 7. Try it on CIFAR-10
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
# 4. You have 50 labelled X-ray images and a network pretrained on Fashion-MNIST. Frozen
#    features or fine-tuning, and why?
#
# <details><summary>Answers</summary>
#
# 1. No. The next shuffle and the next dropout masks come from the random generators; a
#    fresh process starts them elsewhere, so the batches and masks differ (section 2 shows
#    it). The run is still valid, just not identical.
# 2. `os.replace` is atomic only within one file system; `/tmp` is often another one, and
#    then the "rename" becomes a copy that can be interrupted halfway.
# 3. Batch normalisation, still in training mode: it normalises with the statistics of
#    whatever batch it is given. Call `model.eval()` before predicting.
# 4. Frozen features (or fine-tuning with a very small learning rate for the pretrained
#    part): with 50 labels, training all weights overfits quickly. Do check that the
#    features help at all: X-rays are far from clothes, and a validation set decides.
# </details>
#
# ## Summary
#
# * A `Dataset` gives one example (`__len__`, `__getitem__`); a `DataLoader` batches,
#   shuffles, loads in `num_workers` processes and glues with a `collate_fn`.
#   `ImageFolderDataset` reads one folder per class; `pad_collate` handles mixed sizes.
# * A checkpoint holds the model, optimizer, scheduler, epoch and random state; with all
#   five, a resumed run equals the uninterrupted one exactly. Save atomically, load with
#   `weights_only=True`, and expect a clear error when the architecture differs.
# * Schedules: annealing beats a constant rate; cosine and OneCycle are good defaults;
#   warm-up protects the first steps. Per-batch schedules step per batch.
# * Dropout and batch norm behave differently in training and evaluation mode.
#   Dropout, weight decay and early stopping turned a memorising network into one that
#   generalises.
# * Reused features beat training from scratch when labels are few.
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
