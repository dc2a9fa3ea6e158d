# %% [markdown]
# # Exercise 5 · A PyTorch network for handwritten digits (45 min)
#
# <!-- SOLUTION -->
# > **This is the solution.** Students work in the
# > [student version](../05-pytorch-mnist.ipynb), which is generated from this notebook by
# > `make student`.
# <!-- END SOLUTION -->
# <!-- STUDENT
# > **How this exercise works.** Each task is a function for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your function on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](05-pytorch-mnist.ipynb) are there for after you tried.
# -->
#
# **Objectives.** After this exercise you can
# - define a multilayer perceptron with `torch.nn`;
# - write PyTorch's training loop (forward, loss, `zero_grad`, `backward`, `step`) and
#   evaluation loop (`eval()`, `no_grad`) yourself;
# - train a network on MNIST's 28×28 digits to over 90 % test accuracy in seconds (78 % on
#   the harder Fashion-MNIST).
#
# **Background:** [lesson 5](../../05-pytorch-basics.ipynb).
#
# **Data.** The exercise uses MNIST when it is on this machine (`make data` fetches it when
# online) and otherwise Fashion-MNIST, which has exactly the same format: 28×28 grey
# images in 10 classes. The data cell below says which one it uses.

# %%
import torch
from torch import nn

from widgets.checks import ex05_pytorch_mnist as check
from widgets.data import CLASS_NAMES, resolve_dataset
from widgets.notebook import limit_threads, seed_everything
from widgets.torch_training import make_loaders

seed_everything(0)
# Small batches keep one core busy; a second thread gains little here and, on a shared
# machine, can make an epoch many times slower.
limit_threads(1)

# %% [markdown]
# ## Task 1 · The model
#
# Write `build_model()` returning an `nn.Module` that maps a batch of flattened images,
# shape `(batch, 784)`, to 10 **logits** (one score per class), shape `(batch, 10)`: for
# example one hidden layer of 128 ReLU units.

# %% tags=["nbval-check-output"]
def build_model():
    """A multilayer perceptron from 784 pixels to 10 class logits."""
    # SOLUTION Task 1: the model
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    # END SOLUTION


check.build_model(build_model)

# %% [markdown]
# ## Task 2 · One epoch of training
#
# Write `train_one_epoch(model, loader, loss_fn, optimizer)`: one pass over the batches
# `(inputs, targets)` of `loader`, updating the model after each batch. Return the pair
# `(mean loss, accuracy)` over the epoch, where the mean weights each batch by its size.
#
# The check runs your loop and lesson 5's on the same small model (with dropout) and the
# same batches, and compares the parameters afterwards: a forgotten `zero_grad()` or
# `model.train()` shows up there.

# %% tags=["nbval-check-output"]
def train_one_epoch(model, loader, loss_fn, optimizer):
    """One pass over loader; returns (mean loss, accuracy)."""
    # SOLUTION Task 2: the training loop
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, targets in loader:
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(targets)
        correct += (outputs.argmax(dim=1) == targets).sum().item()
        seen += len(targets)
    return total_loss / seen, correct / seen
    # END SOLUTION


check.train_one_epoch(train_one_epoch)

# %% [markdown]
# ## Task 3 · Evaluation
#
# Write `evaluate(model, loader)` returning the accuracy on `loader`, a fraction between
# 0 and 1. Predict in evaluation mode and without building the autograd graph.

# %% tags=["nbval-check-output"]
def evaluate(model, loader):
    """Accuracy of model on loader (dropout off, no gradients)."""
    # SOLUTION Task 3: the evaluation loop
    model.eval()
    correct, seen = 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            correct += (model(inputs).argmax(dim=1) == targets).sum().item()
            seen += len(targets)
    return correct / seen
    # END SOLUTION


check.evaluate(evaluate)

# %% [markdown]
# ## Task 4 · Train on real images
#
# Nothing new to write: the data comes from the course's loader (10,000 training images,
# 2,000 test images, normalised, flattened, in shuffled batches of 64), and the check
# trains a fresh `build_model()` for three epochs with Adam using *your* loops. It expects
# at least 90 % test accuracy on MNIST, 78 % on Fashion-MNIST (a harder dataset: shirts,
# pullovers and coats look much alike at 28×28).

# %%
dataset = resolve_dataset("mnist")  # falls back to Fashion-MNIST, saying so
print(f"This exercise uses {dataset}: classes {', '.join(CLASS_NAMES[dataset])}.")
loaders = make_loaders(dataset, train_size=10_000, test_size=2_000, batch_size=64)
images, labels = next(iter(loaders.train))
print(f"one batch: images {tuple(images.shape)}, labels {tuple(labels.shape)}")

# %%
report = check.full_training(build_model, train_one_epoch, evaluate, loaders, dataset=dataset)

# %% tags=["solution"]
# The check's verdict depends on the dataset, so nbval cannot compare its text: assert it.
assert report.passed, report.text

# %% tags=["solution"]
# Every check above printed ✓. Verdicts that quote training figures are not compared as
# text by the notebook tests (their digits differ between machines), so assert them here.
from widgets.checks import assert_all_passed

assert_all_passed()

# %% [markdown]
# ## Reflection
#
# 1. Your model outputs logits, yet you read its predictions with `argmax`. Why does the
#    argmax of the logits equal the argmax of the probabilities?
# 2. What would happen to the training loss if `optimizer.zero_grad()` were missing?
# 3. Why is the test set's normalisation computed with the *training* images' mean and
#    standard deviation?
#
# <!-- SOLUTION -->
# **Answers.**
# 1. Softmax is strictly increasing in each logit and shares one denominator across the
#    row, so it keeps the order of the logits: the largest logit has the largest
#    probability.
# 2. Each `backward()` would add to the gradients of all previous batches, so the steps
#    follow a running sum of old gradients: they grow and point in stale directions, and
#    the loss falls much more slowly or diverges. The check above detects it by replaying
#    that mistake.
# 3. The model was trained on inputs scaled one way; the test images must be scaled the
#    same way, or the model sees shifted inputs. Computing statistics on the test set
#    would also let test data leak into the pipeline.
# <!-- END SOLUTION -->
#
# **Next:** [exercise 6](06-advanced-pytorch.ipynb): your own `Dataset`, checkpoints and a
# learning-rate schedule.
