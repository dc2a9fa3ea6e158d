# %% [markdown]
# # Exercise 6 · Advanced PyTorch: your own Dataset, checkpoints, a schedule (90 min)
#
# <!-- SOLUTION -->
# > **This is the solution.** Students work in the
# > [student version](../06-advanced-pytorch.ipynb), which is generated from this notebook
# > by `make student`.
# <!-- END SOLUTION -->
# <!-- STUDENT
# > **How this exercise works.** Each task is a function (or a class) for you to write:
# > until you do, it raises `NotImplementedError` and its check says *not done yet*. Run the
# > check cell below each task: it tests your code on hidden cases and says ✓ or what is
# > wrong. Stuck? `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](06-advanced-pytorch.ipynb) are there for after you tried.
# -->
#
# **Objectives.** After this exercise you can
# - write a `torch.utils.data.Dataset` over a folder of images, one sub-folder per class;
# - save rotating checkpoints and resume training from the newest *exactly*, optimizer
#   state included (lesson 6 showed a single checkpoint file);
# - write a learning-rate schedule (linear warm-up, then cosine decay) for `LambdaLR`.
#
# **Background:** [lesson 6](../../06-pytorch-advanced.ipynb) (data pipelines,
# checkpoints, schedules).

# %%
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from widgets.checks import ex06_advanced_pytorch as check
from widgets.notebook import limit_threads, seed_everything

_ = seed_everything(0)  # the Generator it returns is not needed here
# Tiny models: a second thread gains nothing and, on a shared machine, costs a lot.
limit_threads(1)

# %% [markdown]
# ## Task 1 · A Dataset over an image folder
#
# Most image collections are laid out one folder per class:
#
# ```
# root/
#     0-shirt/   000.png 001.png ...
#     1-shoe/    000.png ...
# ```
#
# Write the class `ImageDataset(root, transform=None)`:
# - the classes are the sub-folders of `root`, numbered in **sorted** order of their names;
# - `len(dataset)` is the number of images (`.png` files);
# - `dataset[i]` is `(image, label)`: the image opened with PIL and converted to grey
#   (`.convert("L")`), then either passed to `transform` when one is given, or turned into
#   a float tensor of shape `(1, height, width)` with values in `[0, 1]`.
#
# The check writes a small folder of PNGs (created in unsorted order, with images of
# different sizes) and compares every item with lesson 6's `ImageFolderDataset`.

# %% tags=["nbval-check-output"]
class ImageDataset(Dataset):
    """Grey images under root/<class>/*.png, labelled by sorted class-folder order."""

    def __init__(self, root, transform=None):
        # SOLUTION Task 1: the Dataset over an image folder
        self.classes = sorted(path.name for path in root.iterdir() if path.is_dir())
        self.samples = [
            (path, label)
            for label, name in enumerate(self.classes)
            for path in sorted((root / name).glob("*.png"))
        ]
        self.transform = transform
        # END SOLUTION

    def __len__(self):
        # SOLUTION Task 1: the Dataset over an image folder
        return len(self.samples)
        # END SOLUTION

    def __getitem__(self, index):
        # SOLUTION Task 1: the Dataset over an image folder
        path, label = self.samples[index]
        with Image.open(path) as file:
            image = file.convert("L")
        if self.transform is not None:
            return self.transform(image), label
        return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255)[None], label
        # END SOLUTION


check.image_dataset(ImageDataset)
check.image_dataset_transform(ImageDataset)

# %% [markdown]
# ## Task 2 · Checkpoints that rotate
#
# Lesson 6's `save_checkpoint` writes one file. A long run saves after every epoch, and
# keeping every file would fill the disk; keeping only the last one risks losing
# everything if that file is damaged. Write `save_checkpoint(folder, model, optimizer,
# epoch, keep=2)`: save the model's and the optimizer's **state dicts** and the epoch to
# `folder / "epoch-NNN.pt"` (the epoch with three digits, e.g. `epoch-007.pt`), then delete
# older checkpoints so that only the newest `keep` remain. The file must load with
# `torch.load(path, weights_only=True)`, which refuses files that could run code.

# %% tags=["nbval-check-output"]
def save_checkpoint(folder, model, optimizer, epoch, keep=2):
    """Write epoch-NNN.pt into folder and keep only the newest `keep` checkpoints."""
    # SOLUTION Task 2: save a checkpoint and rotate the old ones
    folder = Path(folder)
    torch.save(
        {"epoch": epoch, "optimizer": optimizer.state_dict(), "model": model.state_dict()},
        folder / f"epoch-{epoch:03d}.pt",
    )
    for old in sorted(folder.glob("epoch-*.pt"))[:-keep]:
        old.unlink()
    # END SOLUTION


check.save_checkpoint(save_checkpoint)

# %% [markdown]
# ## Task 3 · Resume from the latest
#
# Write `load_latest(folder, model, optimizer)`: find the newest checkpoint in `folder`,
# restore the model and the optimizer from it (in place) and return its epoch. With no
# checkpoint in the folder (a first run), change nothing and return 0, so a training
# script can always start with `start = load_latest(...) + 1`.
#
# The check trains a small network with Adam, saving with your `save_checkpoint` after
# epochs 1 and 2, loads into a *new* model and optimizer with your `load_latest`, trains 2
# more epochs, and compares with 4 epochs trained without interruption: they must match.
# (Lesson 6's `widgets.checkpoint` also restores the random generators, which shuffling
# and dropout need; the check's training uses neither.)

# %% tags=["nbval-check-output"]
def load_latest(folder, model, optimizer):
    """Restore model and optimizer from the newest checkpoint; its epoch, or 0 if none."""
    # SOLUTION Task 3: resume from the newest checkpoint
    files = sorted(Path(folder).glob("epoch-*.pt"))
    if not files:
        return 0
    saved = torch.load(files[-1], weights_only=True)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    return saved["epoch"]
    # END SOLUTION


check.resume(save_checkpoint, load_latest)

# %% [markdown]
# ## Task 4 · A learning-rate schedule
#
# Large learning rates at the very start can derail a fresh network; small ones at the
# end let it settle. A common schedule warms up linearly for `warmup_steps` steps, then
# decays along half a cosine to 0 at `total_steps`:
#
# $$f(s) = \begin{cases}
#   \dfrac{s + 1}{w} & s < w \\[2mm]
#   \tfrac12\left(1 + \cos\left(\pi\,\dfrac{s - w}{T - w}\right)\right) & w \le s \le T
# \end{cases}$$
#
# Write `warmup_cosine(step, warmup_steps, total_steps)` returning $f(s)$. PyTorch's
# `LambdaLR` multiplies the optimizer's learning rate by it at every step.

# %% tags=["nbval-check-output"]
def warmup_cosine(step, warmup_steps, total_steps):
    """The learning-rate factor at step: linear warm-up, then cosine decay to 0."""
    # SOLUTION Task 4: warm-up then cosine decay
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * progress))
    # END SOLUTION


check.warmup_cosine(warmup_cosine)

# %% [markdown]
# <!-- SOLUTION -->
# ## Putting it together
#
# The pieces in one loop, on the checks' folder of PNGs: a `DataLoader` over your
# `ImageDataset` (resized to one size by the transform), `LambdaLR` with your schedule
# stepped once per batch, and a checkpoint after each epoch. The student version leaves
# this as a last step to try.
# <!-- END SOLUTION -->

# %% tags=["solution", "nbval-check-output"]
import tempfile

from torch import nn

from widgets.image_folder import TO_FLOAT_TENSOR

with tempfile.TemporaryDirectory() as folder:
    root = check.write_tiny_image_folder(Path(folder) / "images")
    (Path(folder) / "run").mkdir()
    dataset = ImageDataset(root, transform=lambda image: TO_FLOAT_TENSOR(image.resize((6, 8))))
    loader = DataLoader(dataset, batch_size=4, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    epochs = 3
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, len(loader), epochs * len(loader)))
    rates = []
    for epoch in range(1, epochs + 1):
        for images, labels in loader:
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
            scheduler.step()
        save_checkpoint(Path(folder) / "run", model, optimizer, epoch)
    assert load_latest(Path(folder) / "run", model, optimizer) == epochs
    assert sorted(path.name for path in (Path(folder) / "run").iterdir()) == [
        "epoch-002.pt", "epoch-003.pt"]
print("learning rate per step:", ", ".join(f"{rate:.3f}" for rate in rates))
assert max(rates) == 0.5 and rates[0] < rates[len(loader) - 1]

# %% [markdown]
# ## Stretch (optional) · When does Adam diverge?
#
# *Optional, about 30 minutes. There is no fixed answer: the check re-runs your experiment
# and tells you whether the numbers you claim are the ones it measures.*
#
# Adam scales each step to about the learning rate, whatever the gradient's size. Find the
# learning rates at which it stops working on a small problem: train the network below
# (full batch, 100 steps of Adam) on the moons data for learning rates you choose, decide
# for each whether training diverged (say, the final loss is NaN or above 0.5), and write
# `adam_divergence()` returning a dict with at least `"largest stable lr"` and
# `"smallest diverging lr"` among those you tried. Put the numbers your answer quotes into
# `claims`, and explain why a step size fixed by the learning rate (not by the gradient)
# ends in oscillation rather than an explosion to infinity.

# %%
from widgets.toy_data import make_moons

moons_X, moons_y = (torch.as_tensor(a) for a in make_moons(200, noise=0.2, seed=0))
moons_X = moons_X.float()


def moons_loss_after(lr, steps=100):
    """Final full-batch loss of a 2-16-2 network trained with Adam at lr (seeded)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    adam = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        adam.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(moons_X), moons_y)
        loss.backward()
        adam.step()
    return loss.item()


def adam_divergence():
    """The largest learning rate that trained and the smallest that diverged."""
    # SOLUTION Stretch: where Adam diverges
    rates = (0.1, 0.3, 1.0, 3.0, 10.0)
    final = {rate: moons_loss_after(rate) for rate in rates}
    stable = [rate for rate in rates if math.isfinite(final[rate]) and final[rate] < 0.5]
    return {"largest stable lr": max(stable),
            "smallest diverging lr": min(set(rates) - set(stable))}
    # END SOLUTION


claims = {}  # the numbers your answer quotes, e.g. {"smallest diverging lr": 5}

# %% tags=["solution"]
# The solution's answer quotes this run's numbers.
claims = adam_divergence()
print(claims)

# %%
adam_report = check.adam_divergence(adam_divergence, claims)

# %% tags=["solution"]
# Every check above printed ✓. Verdicts that quote training figures are not compared as
# text by the notebook tests (their digits differ between machines), so assert them here.
from widgets.checks import assert_all_passed

assert_all_passed()

# %% [markdown]
# ## Reflection
#
# 1. Why number the classes in *sorted* folder order rather than in the order
#    `iterdir()` returns them?
# 2. Your resumed run matched because the check's batches come in a fixed order. What
#    else would a checkpoint have to hold if the loader shuffled and the model used
#    dropout?
# 3. Why does the warm-up start at $1/w$ rather than at 0?
#
# <!-- SOLUTION -->
# **Answers.**
# 1. `iterdir()` lists entries in the file system's order, which differs between
#    machines and even copies of a folder: the same model would see other labels for the
#    same classes. Sorted names give one numbering everywhere (lesson 6's folders start
#    with their label, `0-...`, so sorted order is label order).
# 2. The state of every random generator that decides the next shuffle and the next
#    dropout mask: PyTorch's global generator, the loader's own `generator`, NumPy's and
#    Python's. `widgets.checkpoint.save_checkpoint` saves them all.
# 3. A factor of 0 would make the first update a no-op: the step would be wasted. Starting
#    at $1/w$ every warm-up step learns, a little at first.
# <!-- END SOLUTION -->
#
# **Well done:** this is the last exercise. Back to [lesson 6](../../06-pytorch-advanced.ipynb)
# or the [course overview](../../../README.md).
