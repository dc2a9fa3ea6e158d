# %% [markdown]
# # Exercise 6 · Advanced PyTorch: your own Dataset, checkpoints, a schedule (60 min)
#
# > **How this exercise works.** Each task is a function (or a class) for you to write:
# > until you do, it raises `NotImplementedError` and its check says *not done yet*. Run the
# > check cell below each task: it tests your code on hidden cases and says ✓ or what is
# > wrong. Stuck? `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](solutions/06-advanced-pytorch.ipynb) are there for after you tried.
#
# **Objectives.** After this exercise you can
# - write a `torch.utils.data.Dataset` over a folder of images, one sub-folder per class;
# - save a checkpoint and resume training from it *exactly*, optimizer state included;
# - write a learning-rate schedule (linear warm-up, then cosine decay) for `LambdaLR`.
#
# **Background:** [lesson 6](../06-pytorch-advanced.ipynb) (data pipelines,
# checkpoints, schedules).

# %%
import math

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from widgets.checks import ex06_advanced_pytorch as check
from widgets.notebook import seed_everything

_ = seed_everything(0)  # the Generator it returns is not needed here

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
        raise NotImplementedError("Task 1: the Dataset over an image folder")

    def __len__(self):
        raise NotImplementedError("Task 1: the Dataset over an image folder")

    def __getitem__(self, index):
        raise NotImplementedError("Task 1: the Dataset over an image folder")


check.image_dataset(ImageDataset)
check.image_dataset_transform(ImageDataset)

# %% [markdown]
# ## Task 2 · Save a checkpoint
#
# Write `save_checkpoint(path, model, optimizer, epoch)`. A checkpoint must hold all that
# the next training step depends on: the model's weights, the optimizer's state (Adam's
# running averages of the gradients) and the epoch. Save **state dicts**, not the objects:
# the file must load with `torch.load(path, weights_only=True)`, which refuses files that
# could run code.

# %% tags=["nbval-check-output"]
def save_checkpoint(path, model, optimizer, epoch):
    """Write model, optimizer and epoch to path."""
    raise NotImplementedError("Task 2: save a checkpoint")


check.save_checkpoint(save_checkpoint)

# %% [markdown]
# ## Task 3 · Load it and resume
#
# Write `load_checkpoint(path, model, optimizer)`: restore the model and the optimizer
# from the file (in place) and return the saved epoch.
#
# The check trains a small network with Adam for 2 epochs, saves with your
# `save_checkpoint`, loads into a *new* model and optimizer with your `load_checkpoint`,
# trains 2 more epochs, and compares with 4 epochs trained without interruption: they
# must match. (Lesson 6's `widgets.checkpoint` also restores the random generators, which
# shuffling and dropout need; the check's training uses neither.)

# %% tags=["nbval-check-output"]
def load_checkpoint(path, model, optimizer):
    """Restore model and optimizer from path; return the saved epoch."""
    raise NotImplementedError("Task 3: load a checkpoint")


check.resume(save_checkpoint, load_checkpoint)

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
    raise NotImplementedError("Task 4: warm-up then cosine decay")


check.warmup_cosine(warmup_cosine)

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
#
# **Well done:** this is the last exercise. Back to [lesson 6](../06-pytorch-advanced.ipynb)
# or the [course overview](../../README.md).
