# %% [markdown]
# # 5 · PyTorch basics (75 min)
#
# In lessons 3 and 4 we wrote every gradient by hand and every layer in NumPy. That was
# the point: now you know what a framework does for you. This lesson moves the same
# network to **PyTorch**, which keeps the ideas and removes the chores.
#
# **By the end of this lesson you can**
#
# 1. create tensors, read their `dtype`, `shape` and `device`, predict how broadcasting
#    combines shapes, and move data between NumPy and PyTorch;
# 2. let **autograd** compute gradients (`requires_grad`, `backward`, `.grad`) and avoid
#    its classic traps: gradients that accumulate, and graphs you did not want;
# 3. write a model as an `nn.Module` or an `nn.Sequential`, list its parameters and save
#    its `state_dict`;
# 4. write the standard training and evaluation loops with a loss and an optimizer
#    (SGD, Adam, RMSprop), and watch them run with the course's `TrainingMonitor`;
# 5. compare lesson 4's NumPy network with the same network in PyTorch, and recognise
#    three common mistakes by their symptoms.
#
# The loops live in `widgets/torch_training.py` (lesson 6 and the exercise reuse them);
# we show their source here and explain it.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from widgets import numpy_nn
from widgets.claims import check_claim, course_seed
from widgets.mlp_by_hand import init_mlp, mlp_loss_and_gradients
from widgets.monitor import TrainingMonitor
from widgets.notebook import limit_threads, pick_device, seed_everything, show_source
from widgets.torch_training import (
    evaluate,
    fit,
    load_tensors,
    make_loaders,
    make_mlp,
    train_one_epoch,
)
from widgets.toy_data import make_moons

# One CPU thread for NumPy's and PyTorch's matrix code. This lesson's matrices are small,
# so extra threads mostly wait for each other (on a busy shared machine they are several
# times *slower*), and it keeps the NumPy-versus-PyTorch comparison fair.
limit_threads(1)
rng = seed_everything(0)
device = pick_device()

# %% [markdown]
# ## 1. Tensors (10 min)
#
# A **tensor** is PyTorch's array: NumPy's `ndarray` plus two things, a `device` (the CPU
# or a GPU) and, if you ask for it, a memory of how it was computed (autograd, section 2).

# %% tags=["live", "nbval-check-output"]
a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(a.shape, a.dtype, a.device)
print(torch.zeros(2, 3).dtype, torch.arange(4), torch.arange(4).dtype)
labels = torch.tensor([3, 0, 7])
print(labels.dtype)

# %% [markdown]
# Two default types to remember: numbers with a decimal point become `float32` (the
# precision neural networks use), whole numbers become `int64` (what class labels must
# be). Shapes change with `reshape` and, for adding an axis, `unsqueeze`:

# %% tags=["nbval-check-output"]
print(a.reshape(3, 2).shape, a.reshape(-1).shape, a.unsqueeze(0).shape)
print(a[1], a[:, 0], a[a > 2.5])  # a row, a column, a boolean mask
assert a.reshape(-1).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]

# %% [markdown]
# **Broadcasting** follows NumPy's rule: compare shapes from the right; two sizes fit if
# they are equal or one of them is 1, which is then stretched. A bias of shape `(3,)`
# is added to every row of a `(2, 3)` batch, exactly like $Z = A W^\top + b$ in lesson 3:

# %% tags=["nbval-check-output"]
bias = torch.tensor([10.0, 20.0, 30.0])
print(a + bias)
column = torch.tensor([[100.0], [200.0]])  # shape (2, 1): stretched along the columns
print(a + column)
assert (a + bias).shape == (2, 3) and (a + column)[1, 2] == 206.0

# %% [markdown]
# **The NumPy bridge.** `torch.from_numpy` and `.numpy()` share memory instead of copying:
# fast, but a change on one side shows on the other. Note the dtype: NumPy's default
# float is `float64`, which PyTorch keeps; models expect `float32`, so convert with
# `.float()`.

# %% tags=["nbval-check-output"]
array = np.zeros(3)
shared = torch.from_numpy(array)
shared[0] = 5.0
print(array, shared.dtype)
assert array[0] == 5.0  # same memory
print(shared.float().dtype, torch.tensor(array).dtype)  # torch.tensor(...) copies

# %% [markdown]
# **Devices.** `pick_device()` returns CUDA (an NVIDIA GPU), MPS (Apple silicon) or the
# CPU. Moving a tensor or a model is `.to(device)`; every tensor in one operation must
# live on the same device. Written this way, the code below runs unchanged on all three.

# %%
print("this notebook computes on:", device)
on_device = a.to(device)
assert torch.equal((on_device * 2).cpu(), a * 2)

# %% [markdown]
# ## 2. Autograd (15 min)
#
# Mark a tensor with `requires_grad=True` and PyTorch records every operation done with
# it. `backward()` on a scalar result then walks that record backwards, applying the
# chain rule exactly as you did by hand in lesson 3, and stores $\partial y/\partial x$ in
# `x.grad`. For $y = x^2 + 3x$, the derivative is $2x + 3$:

# %% tags=["live", "nbval-check-output"]
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x**2 + 3 * x).sum()  # backward() needs a scalar, so sum the three results
y.backward()
print(x.grad)
assert torch.equal(x.grad, 2 * x.detach() + 3)

# %% [markdown]
# **Gradients accumulate.** `backward()` *adds* into `.grad`; it never overwrites. This is
# deliberate (it lets you sum gradients over several small batches), but it means every
# training step must clear the old gradient first, with `optimizer.zero_grad()`:

# %% tags=["nbval-check-output"]
y = (x**2 + 3 * x).sum()
y.backward()  # a second backward pass on a new graph: the gradient is added again
print(x.grad)
assert torch.equal(x.grad, 2 * (2 * x.detach() + 3))

# %% [markdown]
# The symptom of a forgotten `zero_grad` is a loss that behaves as if the learning rate
# kept growing: each step uses the sum of *all* gradients so far. Fitting a straight line
# $y = 3x + 2$ with and without it:

# %%
line_x = torch.linspace(-1, 1, 50).unsqueeze(1)
line_y = 3 * line_x + 2


def fit_line(clear_gradients: bool, steps: int = 60) -> list[float]:
    torch.manual_seed(course_seed(0))
    line = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(line.parameters(), lr=0.1)
    losses = []
    for _ in range(steps):
        if clear_gradients:
            optimizer.zero_grad()
        loss = nn.functional.mse_loss(line(line_x), line_y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


with_zero_grad, without_zero_grad = fit_line(True), fit_line(False)
plt.figure(figsize=(6, 3))
plt.semilogy(with_zero_grad, label="with zero_grad()")
plt.semilogy(without_zero_grad, label="zero_grad() forgotten")
plt.xlabel("step")
plt.ylabel("MSE (log scale)")
plt.legend()
plt.show()
print(f"final loss: {with_zero_grad[-1]:.2e} with zero_grad, {without_zero_grad[-1]:.2e} without")
check_claim("lesson 5: line fit, final loss with zero_grad", with_zero_grad[-1], at_most=2e-3)
check_claim(
    "lesson 5: line fit, final loss without zero_grad over with",
    without_zero_grad[-1] / with_zero_grad[-1],
    at_least=100,
)

# %% [markdown]
# **No graph when you do not need one.** Evaluating a model, logging a number or
# plotting never needs gradients. Inside `torch.no_grad()` nothing is recorded (faster,
# less memory); `torch.inference_mode()` is the stricter version for pure inference.
# `detach()` gives the same numbers cut off from the graph, e.g. before `.numpy()`:

# %% tags=["live", "nbval-check-output"]
w = torch.tensor(2.0, requires_grad=True)
with torch.no_grad():
    print((w * 3).requires_grad)
with torch.inference_mode():
    print((w * 3).requires_grad)
print((w * 3).requires_grad, (w * 3).detach().requires_grad)
assert not (w * 3).detach().requires_grad and (w * 3).requires_grad

# %% [markdown]
# **Lesson 3, re-derived.** There you computed an MLP's gradients with matrix-form
# backpropagation (`widgets.mlp_by_hand`). Autograd must give the same numbers. A 2-3-1
# tanh network with a mean squared error, on eight points of the moons data:

# %% tags=["nbval-check-output"]
moons_X, moons_y = make_moons(8, noise=0.1, seed=0)
targets = moons_y.reshape(-1, 1).astype(float)
layers = init_mlp([2, 3, 1], hidden_activation="tanh", rng=np.random.default_rng(0))
_, by_hand = mlp_loss_and_gradients(layers, moons_X, targets, loss="mse")

W1, b1, W2, b2 = (
    torch.tensor(array, requires_grad=True)  # float64, like lesson 3's arrays
    for array in (layers[0].W, layers[0].b, layers[1].W, layers[1].b)
)
inputs = torch.tensor(moons_X)
output = torch.tanh(inputs @ W1.T + b1) @ W2.T + b2
nn.functional.mse_loss(output, torch.tensor(targets)).backward()

for name, tensor, expected in [
    ("W1", W1, by_hand[0].W),
    ("b1", b1, by_hand[0].b),
    ("W2", W2, by_hand[1].W),
    ("b2", b2, by_hand[1].b),
]:
    difference = np.abs(tensor.grad.numpy() - expected).max()
    assert difference < 1e-12
    print(f"{name}: largest difference < 1e-12")  # its digits are rounding, machine-specific
print(W1.grad)

# %% [markdown]
# ## 3. Models: `nn.Module` and `nn.Sequential` (10 min)
#
# A model is a class derived from `nn.Module`: its layers are attributes created in
# `__init__`, and `forward` says how data flows through them. PyTorch finds every
# parameter of every layer by itself; `model(x)` calls `forward` (plus any hooks).


# %% tags=["live", "nbval-check-output"]
class TwoLayerNet(nn.Module):
    """784 pixels -> 128 hidden ReLU units -> 10 class scores (logits)."""

    def __init__(self, n_inputs: int = 784, n_hidden: int = 128, n_classes: int = 10):
        super().__init__()
        self.hidden = nn.Linear(n_inputs, n_hidden)
        self.output = nn.Linear(n_hidden, n_classes)

    def forward(self, x):
        return self.output(torch.relu(self.hidden(x)))


torch.manual_seed(0)
net = TwoLayerNet()
for name, parameter in net.named_parameters():
    print(f"{name:15s} {tuple(parameter.shape)}")
n_parameters = sum(parameter.numel() for parameter in net.parameters())
print(f"{n_parameters:,} parameters")
assert n_parameters == 784 * 128 + 128 + 128 * 10 + 10

# %% [markdown]
# `nn.Linear(n_in, n_out)` stores `weight` with shape `(n_out, n_in)` and computes
# $x W^\top + b$: lesson 3's convention. The **`state_dict`** is every parameter (and
# buffer) by name, the thing you save with `torch.save` and load back. When the layers
# simply follow each other, `nn.Sequential` saves writing a class; `make_mlp` builds one
# from a list of sizes:

# %% tags=["nbval-check-output"]
show_source(make_mlp)

# %% tags=["nbval-check-output"]
sequential = make_mlp([784, 128, 10])
print(sequential)
print(list(net.state_dict()), list(sequential.state_dict()))
# The same model: copy the class's weights into the Sequential under its names.
renamed = dict(zip(sequential.state_dict(), net.state_dict().values(), strict=True))
sequential.load_state_dict(renamed)
some_images = torch.randn(5, 784)
assert torch.equal(sequential(some_images), net(some_images))

# %% [markdown]
# ## 4. Data, losses and optimizers (10 min)
#
# Fashion-MNIST again: 60 000 training and 10 000 test images of clothes, 28×28 grey
# pixels, 10 classes. `make_loaders` (from `widgets.torch_training`) scales the pixels,
# standardises them with the training set's mean and standard deviation, holds out the
# last 10 000 training images for validation, and wraps everything in `DataLoader`s that
# deliver shuffled mini-batches:

# %% tags=["nbval-check-output"]
show_source(load_tensors)

# %% tags=["nbval-check-output"]
loaders = make_loaders("fashion-mnist", batch_size=128, validation_size=10_000, seed=course_seed(0))
images, batch_labels = next(iter(loaders.train))
print(
    f"train {len(loaders.train.dataset)}, validation {len(loaders.validation.dataset)}, "
    f"test {len(loaders.test.dataset)} images; one batch: {tuple(images.shape)} "
    f"{images.dtype}, labels {tuple(batch_labels.shape)} {batch_labels.dtype}"
)
assert images.shape == (128, 784) and batch_labels.dtype == torch.int64

# %% [markdown]
# **The loss.** `nn.CrossEntropyLoss` takes the raw scores (*logits*, no softmax) and
# integer labels. It applies the softmax itself, in a numerically safe way, and returns
# the mean of $-\log p_{\text{correct class}}$ over the batch, exactly lesson 4's fused
# softmax-cross-entropy:

# %% tags=["live"]
loss_fn = nn.CrossEntropyLoss()
logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
classes = torch.tensor([0, 2])
by_formula = -torch.log_softmax(logits, dim=1)[torch.arange(2), classes].mean()
print(loss_fn(logits, classes), by_formula)
assert torch.isclose(loss_fn(logits, classes), by_formula)

# %% [markdown]
# **The optimizer** owns the update rule. It receives the parameters once, and then each
# `optimizer.step()` moves them using their `.grad`. Lesson 4 implemented these rules in
# NumPy; here they are one line each. The same network, the same 10 000 images, two
# epochs with each optimizer at a typical learning rate:

# %%
small = make_loaders(
    "fashion-mnist",
    batch_size=128,
    train_size=10_000,
    validation_size=10_000,
    seed=course_seed(0),
)
optimizers = {
    "SGD (lr 0.01)": lambda params: torch.optim.SGD(params, lr=0.01),
    "SGD + momentum (lr 0.01)": lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9),
    "RMSprop (lr 0.001)": lambda params: torch.optim.RMSprop(params, lr=0.001),
    "Adam (lr 0.001)": lambda params: torch.optim.Adam(params, lr=0.001),
}
comparison = {}
for label, make_optimizer in optimizers.items():
    torch.manual_seed(course_seed(0))
    candidate = make_mlp([784, 128, 10])
    runs = fit(
        candidate,
        small.train,
        loss_fn,
        make_optimizer(candidate.parameters()),
        epochs=2,
        val_loader=small.validation,
    )
    comparison[label] = runs[-1]["val_loss"]
    print(f"{label:26s} validation loss after 2 epochs: {runs[-1]['val_loss']:.3f}")
sgd = comparison["SGD (lr 0.01)"]
check_claim(
    "lesson 5: SGD's validation loss minus Adam's",
    sgd - comparison["Adam (lr 0.001)"],
    at_least=0.0,
)
check_claim(
    "lesson 5: SGD's validation loss minus momentum's",
    sgd - comparison["SGD + momentum (lr 0.01)"],
    at_least=0.0,
)

# %% [markdown]
# Plain SGD at this rate is the slowest starter; momentum, RMSprop and Adam adapt the
# step and get further in the same time. That is why Adam with `lr=1e-3` is the usual
# first choice, not a law: a well-tuned SGD with momentum often ends up as good.
#
# ## 5. The standard training and evaluation loops (15 min)
#
# Every PyTorch training loop has the same five lines per batch: **forward**, **loss**,
# **`zero_grad`**, **`backward`**, **`step`**. Around them, `model.train()` switches
# layers such as dropout and batch normalisation to their training behaviour:

# %% tags=["nbval-check-output"]
show_source(train_one_epoch)

# %% [markdown]
# Evaluation is the same loop without the update. Two details matter: `model.eval()`
# (dropout off, batch norm uses its running averages) and `torch.no_grad()` (no graph:
# faster and lighter). Forgetting either does not crash; it silently gives different,
# worse numbers.

# %% tags=["nbval-check-output"]
show_source(evaluate)

# %% [markdown]
# `fit` runs both once per epoch, records the numbers, and can report to a
# `TrainingMonitor`: the course's live view of a run. **While the cell runs**, it
# updates a progress line after every epoch (epochs done, time left, latest numbers)
# and redraws the loss, accuracy and learning-rate curves (training solid, validation
# dashed) as often as a small time budget allows: drawing may cost at most 2 % of the
# run, so the first epoch appears at once and short runs get few redraws. It flags a
# loss that turns NaN or shoots far above its best, and if you press ■ (interrupt)
# during training it stops cleanly: the model keeps the weights it has,
# `monitor.history` the epochs completed, and the picture says where it stopped.
# `monitor.watch(model)` adds histograms of the weights and of the gradients'
# magnitudes, sampled every 50 steps.

# %% tags=["nbval-check-output"]
show_source(fit)

# %% [markdown]
# The training cell: lesson 4's network, 784-256-128-10 with ReLU, trained with Adam on
# mini-batches of 128. Watch the curves grow while it runs (a few seconds on a laptop):

# %%
SIZES, EPOCHS = [784, 256, 128, 10], 5
seed_everything(0)
model = make_mlp(SIZES).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
monitor = TrainingMonitor(title="MLP 784-256-128-10 on Fashion-MNIST").watch(model)
started = time.perf_counter()
history = fit(
    model,
    loaders.train,
    loss_fn,
    optimizer,
    epochs=EPOCHS,
    val_loader=loaders.validation,
    device=device,
    monitor=monitor,
)
# the monitor counts its own drawing time, so the comparison below is about training alone
torch_seconds = time.perf_counter() - started - monitor.seconds_inside

# %% [markdown]
# The history is plain data, one dict per epoch, ready for a table or your own plot. The
# final check uses the **test** set, which played no part in any decision so far:

# %%
for row in history:
    print({key: round(value, 3) for key, value in row.items()})
test_loss, test_accuracy = evaluate(model, loaders.test, loss_fn, device)
print(f"test accuracy: {test_accuracy:.1%}")
check_claim("lesson 5: PyTorch MLP test accuracy", test_accuracy, at_least=0.855)

# %% [markdown]
# ## 6. The same network in NumPy and in PyTorch (5 min)
#
# Lesson 4 built this very network, 784-256-128-10 with ReLU and Adam, from NumPy arrays
# (`widgets.numpy_nn`). Trained on the same standardised images, with the same batch
# size, learning rate and number of epochs (the monitor works for any loop: here it
# receives NumPy's numbers):

# %%
train_X, train_y = (tensor.numpy() for tensor in loaders.train.dataset.tensors)
validation_X, validation_y = (tensor.numpy() for tensor in loaders.validation.dataset.tensors)
test_X, test_y = (tensor.numpy() for tensor in loaders.test.dataset.tensors)

numpy_model = numpy_nn.mlp(SIZES, rng=np.random.default_rng(course_seed(0)))
numpy_loss = numpy_nn.SoftmaxCrossEntropy()
numpy_optimizer = numpy_nn.Adam(numpy_model.parameters(), numpy_model.gradients(), lr=1e-3)
numpy_monitor = TrainingMonitor(title="the same MLP in NumPy (lesson 4)")
numpy_history = numpy_nn.fit(
    numpy_model,
    numpy_loss,
    numpy_optimizer,
    train_X,
    train_y,
    epochs=EPOCHS,
    batch_size=128,
    rng=np.random.default_rng(course_seed(0)),
    validation_data=(validation_X, validation_y),
    monitor=numpy_monitor,  # the same contract as PyTorch's fit above
)
numpy_seconds = sum(row["seconds"] for row in numpy_history)

# %%
_, numpy_test_accuracy = numpy_nn.evaluate(numpy_model, numpy_loss, test_X, test_y)
print(f"test accuracy: NumPy {numpy_test_accuracy:.1%}, PyTorch {test_accuracy:.1%}")
check_claim(
    "lesson 5: NumPy and PyTorch test accuracies differ by",
    abs(numpy_test_accuracy - test_accuracy),
    at_most=0.03,
)

# %%
print(
    f"seconds per epoch: NumPy {numpy_seconds / EPOCHS:.2f}, "
    f"PyTorch {torch_seconds / EPOCHS:.2f} (one CPU thread each, validation included)"
)

# %% [markdown]
# Same network, same data, the same accuracy within about two points (the two start from
# different random weights). The seconds per epoch above are this machine's. On a CPU,
# lesson 4's careful NumPy code can keep up with PyTorch or even beat it: both spend most
# of their time in the same kind of matrix-multiplication library, and PyTorch adds
# bookkeeping around every operation (the autograd graph, a `DataLoader` that assembles
# each batch from single images). What PyTorch adds is everything around the
# arithmetic: no backward pass to write or check, dozens of layers and optimizers ready
# to use, and the same code on a GPU by changing `device`.
#
# ## 7. Common mistakes and their symptoms (5 min)
#
# **Wrong tensor dimensions.** A `Linear` layer wants one example per row. Images that
# still have their 28×28 shape stop the forward pass with a shape error; read it: it
# names both shapes.

# %%
unflattened, _ = load_tensors("fashion-mnist", "test", limit=4, flatten=False)
try:
    model.cpu()(unflattened)
except RuntimeError as error:
    message = str(error)
    print(message)
assert "cannot be multiplied" in message
model = model.to(device)

# %% [markdown]
# Worse are the shapes that broadcast *silently*. Predictions of shape `(N, 1)` minus
# targets of shape `(N,)` give an `(N, N)` matrix, and the "loss" averages nonsense:

# %% tags=["nbval-check-output"]
predictions = torch.zeros(4, 1)
wanted = torch.ones(4)
print((predictions - wanted).shape, "instead of", (predictions.squeeze(1) - wanted).shape)
assert (predictions - wanted).shape == (4, 4)

# %% [markdown]
# **Data not shuffled.** The same model trained one epoch on images sorted by class sees
# only T-shirts, then only trousers, ...: each stretch of batches undoes the previous
# one, and the model ends up predicting the last classes it saw.

# %%
subset_X, subset_y = (tensor[:10_000] for tensor in loaders.train.dataset.tensors)
order = torch.argsort(subset_y, stable=True)
sorted_batches = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(subset_X[order], subset_y[order]), batch_size=128
)
shuffled_batches = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(subset_X, subset_y),
    batch_size=128,
    shuffle=True,
    generator=torch.Generator().manual_seed(course_seed(0)),
)
accuracies = {}
for label, batches in [("sorted by class", sorted_batches), ("shuffled", shuffled_batches)]:
    torch.manual_seed(course_seed(0))
    candidate = make_mlp([784, 128, 10])
    train_one_epoch(candidate, batches, loss_fn, torch.optim.Adam(candidate.parameters()))
    accuracies[label] = evaluate(candidate, loaders.validation, loss_fn)[1]
    print(f"{label:16s} validation accuracy after one epoch: {accuracies[label]:.1%}")
check_claim(
    "lesson 5: validation accuracy after an epoch of sorted batches",
    accuracies["sorted by class"],
    at_most=0.5,
)
check_claim(
    "lesson 5: validation accuracy after an epoch of shuffled batches",
    accuracies["shuffled"],
    at_least=0.75,
)

# %% [markdown]
# **Learning rate too high or too low.** Too low: the loss barely moves. Too high: it
# jumps up or becomes NaN, and the monitor flags it (`stop_on_divergence=True` also
# ends the run, so no time is wasted):

# %%
rates = {"too low (SGD, lr 1e-5)": 1e-5, "too high (SGD, lr 20)": 20.0}
rate_monitors = {}
for label, rate in rates.items():
    torch.manual_seed(course_seed(0))
    candidate = make_mlp([784, 128, 10])
    rate_monitors[label] = TrainingMonitor(title=label, stop_on_divergence=True)
    fit(
        candidate,
        small.train,
        loss_fn,
        torch.optim.SGD(candidate.parameters(), lr=rate),
        epochs=4,
        val_loader=small.validation,
        monitor=rate_monitors[label],
    )

# %%
too_low = rate_monitors["too low (SGD, lr 1e-5)"]
too_high = rate_monitors["too high (SGD, lr 20)"]
low_losses = too_low.series("loss")[1]
print(f"too low: loss {low_losses[0]:.3f} -> {low_losses[-1]:.3f}, flags: {too_low.flags}")
print(f"too high: {too_high.stopped_reason}; flags: {[flag.reason for flag in too_high.flags]}")
check_claim(
    "lesson 5: lr 1e-5, loss drop over 4 epochs", low_losses[0] - low_losses[-1], at_most=0.1
)
assert not too_low.flags
assert too_high.flags and too_high.stopped_reason.endswith("(diverged)")

# %% [markdown]
# ## Check your understanding
#
# 1. `x = torch.tensor([1, 2, 3])`. What is `x.dtype`, and why would `nn.Linear(3, 1)(x)`
#    fail?
# 2. You call `loss.backward()` twice on two batches without `zero_grad()` between them.
#    What does `.grad` hold, and when is that useful?
# 3. Why does `evaluate` use both `model.eval()` and `torch.no_grad()`? What goes wrong
#    with each one missing?
# 4. Your loss is `nan` after the first epoch. Name two likely causes.
#
# <details><summary>Answers</summary>
#
# 1. `torch.int64`: whole numbers give integer tensors. `Linear`'s weights are `float32`,
#    and a matrix product of an integer and a float tensor is refused; use
#    `torch.tensor([1.0, 2.0, 3.0])` or `x.float()`.
# 2. The *sum* of both batches' gradients. Useful for gradient accumulation: a large
#    batch that does not fit in memory, processed in pieces, with one `step()` at the end.
# 3. `eval()` changes what layers compute (dropout off, batch norm uses running
#    averages): without it, evaluation numbers are noisy and too pessimistic. `no_grad()`
#    changes what PyTorch records: without it, results are the same but time and memory
#    are wasted on a graph no one uses.
# 4. A learning rate far too high (the loss explodes, then overflows), or bad input data
#    (a NaN pixel, unnormalised values in the thousands); also a `log` of zero in a
#    hand-written loss, which `nn.CrossEntropyLoss` avoids.
# </details>
#
# ## Summary
#
# * Tensors are NumPy arrays with a device and, on request, a gradient; float32 for
#   data and weights, int64 for labels; broadcasting follows NumPy's rule.
# * Autograd records operations on tensors with `requires_grad=True`; `backward()` adds
#   $\partial L / \partial \theta$ into `.grad`, so clear it every step with `zero_grad()`.
#   It reproduces lesson 3's hand-derived gradients to 12 decimal places.
# * A model is an `nn.Module` (or `nn.Sequential`); its `parameters()` go to an optimizer,
#   its `state_dict()` to disk.
# * The training loop is forward, loss, `zero_grad`, `backward`, `step`; evaluation is
#   `eval()` plus `no_grad()`. Lesson 4's 784-256-128-10 MLP reaches about 87 % test
#   accuracy in five epochs, in PyTorch as in NumPy.
# * Watch runs while they happen: unshuffled data and a bad learning rate show up in the
#   curves long before the final number.
#
# **Exercise:** [05-pytorch-mnist](exercises/05-pytorch-mnist.ipynb): a PyTorch network
# for MNIST (Fashion-MNIST when MNIST is not on your machine), with these loops.
#
# **Next:** [06-pytorch-advanced.ipynb](06-pytorch-advanced.ipynb): your own datasets,
# checkpoints that resume exactly, learning-rate schedules, regularisation and transfer
# learning.
