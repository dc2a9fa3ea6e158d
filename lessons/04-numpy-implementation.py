# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4 · A complete neural network in NumPy (90 min)
#
# Lesson 3 computed gradients for one hand-written network. This lesson turns that code into
# **reusable parts** (layers, losses, a model, optimizers, a training loop), checks every
# part against finite differences and PyTorch, and trains a real image classifier to
# **about 89 %** test accuracy on Fashion-MNIST, in plain NumPy.
#
# **By the end of this lesson you can**
#
# 1. write a layer as a `forward`/`backward` pair and chain layers into a model;
# 2. explain why softmax and cross-entropy are computed as one fused, stable layer;
# 3. choose an initialisation (He, Xavier) and say what goes wrong without one;
# 4. implement SGD, momentum, RMSprop and Adam with exactly PyTorch's formulas;
# 5. write a mini-batch training loop with reshuffling and held-out evaluation;
# 6. debug a network: gradient checks, the loss at initialisation, overfitting one batch,
#    gradient norms, dead ReLUs, and learning rates that are too high or too low;
# 7. read learning curves, a confusion matrix and first-layer weights.
#
# All code lives in `widgets/numpy_nn.py`, the one home of the NumPy network: the tests,
# the benchmark and the exercise checks import the very same classes. The lesson imports
# them and shows their source as it goes.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from widgets import numpy_nn as nn
from widgets.claims import check_claim, course_seed
from widgets.data import CLASS_NAMES, load_numpy, resolve_dataset
from widgets.monitor import TrainingMonitor
from widgets.notebook import blas_threads, limit_threads, seed_everything, show_source

rng = seed_everything(0)

# %% [markdown]
# **Threads.** NumPy hands matrix products to a BLAS library (OpenBLAS), which may split
# each product over several threads. Those threads wait for each other by spinning, so on a
# machine whose cores are shared with other programs (Binder, a laptop with a browser
# open, notebooks tested in parallel) two threads can be many times *slower* than one. This
# lesson's matrices are small, so one thread loses little and never stalls:

# %%
limit_threads(1)  # PyTorch too: it checks our gradients later
assert blas_threads() in (1, None)  # None: a BLAS threadpoolctl cannot see (Accelerate)

# %% [markdown]
# **The data.** Fashion-MNIST: 70,000 grey 28×28 images of clothing in 10 classes. Set
# `DATASET = "mnist"` for handwritten digits instead; when MNIST is not on this machine the
# loader says so and falls back to Fashion-MNIST (same shape, same format).

# %% tags=["nbval-check-output"]
DATASET = "fashion-mnist"  # or "mnist"

dataset = resolve_dataset(DATASET)
class_names = CLASS_NAMES[dataset]
train_images, train_labels = load_numpy(dataset, "train")
test_images, test_labels = load_numpy(dataset, "test")
print(
    f"{dataset}: {len(train_images)} training and {len(test_images)} test images, "
    f"{train_images.shape[1]}x{train_images.shape[2]} pixels, classes: {class_names}"
)

# %% [markdown]
# A network sees each image as a row of 784 numbers. `prepare_images` flattens the images
# and scales the bytes 0…255 to float32 values in [0, 1]. We keep the last 5,000 training
# images aside as a **validation set** for choosing settings, and touch the test set only
# once, at the very end.

# %% tags=["nbval-check-output"]
show_source(nn.prepare_images)

# %% tags=["nbval-check-output"]
X_all, y_all = nn.prepare_images(train_images), train_labels
X_train, y_train = X_all[:-5000], y_all[:-5000]
X_val, y_val = X_all[-5000:], y_all[-5000:]
X_test, y_test = nn.prepare_images(test_images), test_labels
print(X_train.dtype, X_train.shape, X_val.shape, X_test.shape)
assert X_train.dtype == np.float32 and 0.0 <= X_train.min() and X_train.max() <= 1.0

# %% [markdown]
# ## 1. A layer is a forward and a backward function
#
# Backpropagation (lesson 3) only ever needs *local* knowledge: each operation receives the
# gradient of the loss with respect to its output, $G = \partial\mathcal{L}/\partial Y$, and
# returns the gradient with respect to its input. So every layer has the same interface:
#
# * `forward(x)` computes the output and remembers what backward will need;
# * `backward(grad_output)` returns $\partial\mathcal{L}/\partial X$ and stores the gradients
#   of its parameters in `layer.grads`, next to `layer.params`.
#
# A **dense** (fully connected) layer computes $Y = XW + b$ for a batch $X$ of shape
# $(B, n_\text{in})$, with $W$ of shape $(n_\text{in}, n_\text{out})$. The chain rule gives
#
# $$\frac{\partial\mathcal{L}}{\partial W} = X^\top G,\qquad
#   \frac{\partial\mathcal{L}}{\partial b} = \sum_{\text{rows}} G,\qquad
#   \frac{\partial\mathcal{L}}{\partial X} = G\,W^\top .$$
#
# Each shape matches what it is the gradient of: $X^\top G$ is $(n_\text{in}, n_\text{out})$
# like $W$. The sum over rows adds up the batch's contributions to the shared bias.

# %% tags=["nbval-check-output"]
show_source(nn.Dense)

# %% [markdown]
# Two things in this code are about **speed**, and you will meet them in every layer:
#
# * `np.matmul(..., out=...)` writes into an array the layer allocated once and reuses, so
#   training allocates no memory batch after batch. The price: **the array a layer returns
#   is overwritten by its next call**. Copy it if you want to keep it.
# * The first layer does not need $\partial\mathcal{L}/\partial X$ (nothing below it
#   learns), so training calls `backward(..., input_grad=False)` and skips one of that
#   layer's two equally large matrix products: half of its backward work.

# %% tags=["nbval-check-output"]
dense = nn.Dense(4, 3, rng=rng)
first = dense.forward(np.ones((2, 4), dtype=np.float32))
kept = first.copy()
second = dense.forward(np.zeros((2, 4), dtype=np.float32))
print(
    "both outputs share memory:",
    np.shares_memory(first, second),
    "| the first output now reads:",
    first[0],
)
assert np.shares_memory(first, second) and not first.any() and kept.any()

# %% [markdown]
# ## 2. Activations and dropout are layers too
#
# Activation layers have no parameters. Their backward multiplies the upstream gradient
# elementwise by the local derivative: for ReLU, $1$ where the input was positive and $0$
# elsewhere; sigmoid and tanh use their own output, $\sigma' = \sigma(1-\sigma)$ and
# $\tanh' = 1 - \tanh^2$ (the formulas of `widgets/activations.py` from lesson 1).

# %% tags=["nbval-check-output"]
show_source(nn.ReLU, nn.Sigmoid, nn.Tanh)

# %% [markdown]
# **Dropout** randomly switches units off during training, so the network cannot rely on
# any single unit (a regulariser; the exercise explores it). *Inverted* dropout scales the
# survivors by $1/(1-p)$ during training, so each unit's expected value is unchanged and
# evaluation needs no correction: in evaluation mode the layer does nothing.

# %% tags=["nbval-check-output"]
show_source(nn.Dropout)

# %% tags=["live", "nbval-check-output"]
dropout = nn.Dropout(0.5, rng=rng)
ones = np.ones((1000, 100), dtype=np.float32)
dropped = dropout.forward(ones)
print(f"training: {np.mean(dropped == 0):.0%} of units zeroed, mean value {dropped.mean():.2f}")
dropout.eval()
assert abs(np.mean(dropped == 0) - 0.5) < 0.01 and abs(dropped.mean() - 1.0) < 0.02
assert dropout.forward(ones) is ones  # evaluation: the identity

# %% [markdown]
# ## 3. Losses: MSE, and softmax cross-entropy fused into one layer
#
# A loss turns the network's output into one number (`forward`) and starts the backward
# pass (`backward()`, no argument: it is the end of the chain). **MSE**,
# $\frac1N\sum(\hat y - y)^2$, is for regression. For classification the network outputs one
# **logit** $z_j$ per class; softmax turns them into probabilities and cross-entropy
# penalises a low probability for the true class $y$:
#
# $$p_j = \frac{e^{z_j}}{\sum_k e^{z_k}},\qquad
#   \ell = -\log p_y = \log\sum_k e^{z_k} - z_y .$$
#
# Computed separately, this breaks: $e^{1000}$ overflows to infinity, $\infty/\infty$ is
# NaN, and a probability that rounds to 0 has the logarithm $-\infty$. Two facts fix it.
# Softmax does not change when a constant is subtracted from every logit, so we subtract
# the row's maximum $m$ and every exponent is $\le 0$. And written as
# $\log\sum_k e^{z_k - m} - (z_y - m)$ the loss never takes the log of a tiny probability.
# The gradient of the fused layer is remarkably simple (lesson 3 derived it):
#
# $$\frac{\partial \ell}{\partial z_j} = p_j - [j = y],$$
#
# divided by the batch size $B$ for a mean over the batch.

# %% tags=["nbval-check-output"]
show_source(nn.SoftmaxCrossEntropy)

# %%
logits = np.array([[1000.0, -1000.0, 0.0], [5.0, 1.0, 0.0]], dtype=np.float32)
labels = np.array([1, 0])
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive_probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    naive_loss = -np.mean(np.log(naive_probabilities[[0, 1], labels]))
cross_entropy = nn.SoftmaxCrossEntropy()
fused_loss = cross_entropy.forward(logits, labels)
print(f"naive: {naive_loss}   fused: {fused_loss:.4f}")
assert not np.isfinite(naive_loss) and np.isfinite(fused_loss)
# Row 1 puts label 1 2000 below the best logit: its loss is 2000; row 2's is small.
assert abs(fused_loss - (2000 + (math.log(1 + math.exp(-4) + math.exp(-5)))) / 2) < 1e-3

# %% [markdown]
# ## 4. A model is a list of layers
#
# `Sequential` calls each layer's `forward` in order and each `backward` in reverse. It
# also gathers the parameters and their gradients under names like `"0.W"` (layer 0's
# weights), as PyTorch's `state_dict` does; `parameters()` and `gradients()` list them in
# the same order, which is what an optimizer needs. `mlp(sizes)` builds the usual stack.

# %% tags=["nbval-check-output"]
show_source(nn.Sequential.forward, nn.Sequential.backward, nn.mlp)

# %% tags=["live", "nbval-check-output"]
model = nn.mlp([784, 256, 128, 10], rng=rng)
print(model)
for name, value in model.params.items():
    print(f"  {name:4s} {str(value.shape):11s} {value.dtype}")
n_parameters = sum(value.size for value in model.parameters())
print(f"{n_parameters:,} parameters")
assert n_parameters == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10 == 235_146

# %% [markdown]
# ## 5. Debugging, part 1: check every gradient
#
# A backward pass with a bug still produces numbers, and the network may even learn a
# little, so bugs hide. The cure from lesson 3 is the **gradient check**: nudge one input by
# $\pm\varepsilon$ and compare the slope with the analytic gradient,
#
# $$\frac{\partial f}{\partial w} \approx \frac{f(w+\varepsilon) - f(w-\varepsilon)}{2\varepsilon},
#   \qquad \text{relative error} = \frac{\lVert g_\text{analytic} - g_\text{numeric}\rVert}
#   {\lVert g_\text{analytic}\rVert + \lVert g_\text{numeric}\rVert}.$$
#
# For a layer with many outputs we differentiate $f = \sum (\text{output} \odot R)$ for a
# fixed random $R$, so that every output matters. The check needs **float64**: float32
# rounds at about $10^{-7}$, which divided by $\varepsilon = 10^{-6}$ swamps the slope.
# Every layer therefore takes a `dtype`. The checker itself is lesson 3's
# `check_gradients` (in `widgets.gradcheck`); lesson 4 only chooses what to nudge:

# %% tags=["nbval-check-output"]
show_source(nn.gradient_check)

# %%
check_rng = np.random.default_rng(1)
x_check = check_rng.standard_normal((6, 5))
layers_to_check = {
    "Dense": nn.Dense(5, 4, rng=check_rng, dtype=np.float64),
    "ReLU": nn.ReLU(),
    "Sigmoid": nn.Sigmoid(),
    "Tanh": nn.Tanh(),
    "Dropout": nn.Dropout(0.3, rng=check_rng),
}
layer_errors = {name: nn.gradient_check(layer, x_check) for name, layer in layers_to_check.items()}
small_model = nn.Sequential(
    nn.Dense(5, 8, rng=check_rng, dtype=np.float64),
    nn.ReLU(),
    nn.Dropout(0.2, rng=check_rng),
    nn.Dense(8, 3, rng=check_rng, dtype=np.float64),
)
layer_errors["model + loss"] = nn.gradient_check(
    small_model, x_check, loss_fn=nn.SoftmaxCrossEntropy(), target=check_rng.integers(0, 3, 6)
)

# %%
for name, errors in layer_errors.items():
    # Only an order of magnitude: the digits of a 1e-10 error are rounding, machine-specific.
    print(
        f"{name:13s}",
        "  ".join(
            f"{key}: < 1e{math.floor(math.log10(error)) + 1:d}" if error > 0 else f"{key}: 0"
            for key, error in errors.items()
        ),
    )

# %% tags=["nbval-check-output"]
worst = max(error for errors in layer_errors.values() for error in errors.values())
print("every relative error is below 1e-7:", worst < 1e-7)
check_claim("lesson 4: worst relative error of the layer gradient checks", worst, at_most=1e-7)

# %% [markdown]
# A relative error around $10^{-10}$ means the formulas are right; $10^{-2}$ or more means
# a bug (ReLU is the one exception to watch: an input within $\varepsilon$ of 0 straddles
# the kink). As a second, independent opinion, PyTorch's autograd differentiates the same
# small model, with the same weights, and must agree to rounding error:

# %% tags=["nbval-check-output"]
model64 = nn.Sequential(
    nn.Dense(5, 8, rng=check_rng, dtype=np.float64),
    nn.Tanh(),
    nn.Dense(8, 3, rng=check_rng, dtype=np.float64),
)
labels_check = check_rng.integers(0, 3, 6)
loss_ours = cross_entropy.forward(model64.forward(x_check), labels_check)
model64.backward(cross_entropy.backward())

params_torch = {
    name: torch.tensor(value, requires_grad=True) for name, value in model64.params.items()
}
hidden = torch.tanh(torch.tensor(x_check) @ params_torch["0.W"] + params_torch["0.b"])
logits_torch = hidden @ params_torch["2.W"] + params_torch["2.b"]
loss_torch = torch.nn.functional.cross_entropy(logits_torch, torch.tensor(labels_check))
loss_torch.backward()
largest_difference = max(
    np.abs(model64.grads[name] - tensor.grad.numpy()).max() for name, tensor in params_torch.items()
)
print(
    "loss and every gradient agree with PyTorch to 1e-12:",
    abs(loss_ours - loss_torch.item()) < 1e-12 and largest_difference < 1e-12,
)
assert abs(loss_ours - loss_torch.item()) < 1e-12 and largest_difference < 1e-12

# %% [markdown]
# ## 6. Initialisation: keep the signal's scale
#
# Each dense layer multiplies its input by $W$. If the weights are too small the signal
# shrinks layer after layer and vanishes; too large and it explodes. The variance of one
# output is $n_\text{in}\operatorname{Var}(w)$ times the mean square of the inputs, so we
# choose $\operatorname{Var}(w)$ to make that factor 1:
#
# * **Xavier/Glorot** (2010), for tanh and sigmoid:
#   $\operatorname{Var}(w) = 2/(n_\text{in}+n_\text{out})$;
# * **He/Kaiming** (2015), for ReLU: $\operatorname{Var}(w) = 2/n_\text{in}$. ReLU zeroes half
#   of the signal, and the factor 2 gives the other half's energy back.

# %% tags=["nbval-check-output"]
show_source(nn.init_weights)

# %%
signal = np.random.default_rng(2).standard_normal((500, 256)).astype(np.float32)
depth_scales = {}
for label, init in [("N(0, 0.01²)", 0.01), ("Xavier", "xavier"), ("He", "he")]:
    deep = nn.mlp([256] * 11, rng=np.random.default_rng(3), init=init)
    x, scales = signal, [float(np.sqrt(np.mean(signal**2)))]
    for layer in deep.layers:
        x = layer.forward(x)
        if isinstance(layer, nn.Dense):
            scales.append(float(np.sqrt(np.mean(x**2))))
    depth_scales[label] = scales

fig, ax = plt.subplots(figsize=(6, 3.2))
for label, scales in depth_scales.items():
    ax.semilogy(scales, marker="o", label=label)
ax.set(xlabel="dense layer", ylabel="RMS of its output", title="10 ReLU layers, width 256")
ax.legend()
plt.show()
assert 0.5 < depth_scales["He"][-1] < 2.0  # He keeps the scale
assert depth_scales["Xavier"][-1] < 0.1  # Xavier halves the energy at every ReLU layer
assert depth_scales["N(0, 0.01²)"][-1] < 1e-8  # a "small random" init kills the signal

# %% [markdown]
# With $\mathcal N(0, 0.01^2)$ the output of the tenth layer is less than a hundred-millionth
# of the input: the last layers see nothing, and the gradients flowing back shrink the same
# way. Xavier, designed for tanh, loses half the energy at each ReLU.
# He keeps the scale, which is why `Dense` uses it by default.

# %% [markdown]
# ## 7. Optimizers
#
# An optimizer updates each parameter $\theta$ from its gradient $g$. The four classics, in
# the exact form `torch.optim` uses (the tests compare them step by step with PyTorch):
#
# * **SGD**: $\theta \leftarrow \theta - \eta\, g$
# * **momentum**: $v \leftarrow \mu v + g$, then $\theta \leftarrow \theta - \eta\, v$
# * **RMSprop**: $s \leftarrow \alpha s + (1-\alpha) g^2$, then
#   $\theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \epsilon)$
# * **Adam**: $m \leftarrow \beta_1 m + (1-\beta_1) g$ and
#   $v \leftarrow \beta_2 v + (1-\beta_2) g^2$, then
#   $\theta \leftarrow \theta - \eta\,\dfrac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}$
#
# Momentum averages gradients over time, so consistent directions build up speed and
# zig-zags cancel. RMSprop divides by a running size of each gradient, giving every
# parameter its own step size. Adam does both; the factors $1/(1-\beta^t)$ correct the bias
# of averages that start at zero.

# %% tags=["nbval-check-output"]
show_source(nn.Optimizer.step, nn.SGD, nn.Momentum, nn.RMSprop, nn.Adam)

# %% [markdown]
# First, a problem small enough to watch: a long, narrow valley
# $f(a, b) = \tfrac12(a^2 + 25 b^2)$, whose gradient is $(a, 25b)$. The same learning rate is
# too large across the valley and too small along it, the typical situation in a network.


# %% tags=["nbval-check-output"]
def descend(optimizer_class, steps=60, **settings):
    point, grad = np.array([-9.0, 1.5]), np.zeros(2)
    optimizer = optimizer_class([point], [grad], **settings)
    path = [point.copy()]
    for _ in range(steps):
        grad[...] = point * np.array([1.0, 25.0])
        optimizer.step()
        path.append(point.copy())
    return np.array(path)


valley_settings = {
    "SGD": dict(lr=0.075),
    "Momentum": dict(lr=0.075, momentum=0.7),
    "RMSprop": dict(lr=0.1),
    "Adam": dict(lr=0.4),
}
paths = {
    name: descend(nn.OPTIMIZERS[name], **settings) for name, settings in valley_settings.items()
}

a, b = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-2.2, 2.2, 200))
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.contour(a, b, 0.5 * (a**2 + 25 * b**2), levels=np.geomspace(0.05, 80, 12), colors="0.8")
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], marker=".", markersize=4, label=name)
ax.plot(0, 0, "k*", markersize=12)
ax.set(xlabel="a", ylabel="b", title="60 steps on ½(a² + 25 b²), starting at (-9, 1.5)")
ax.legend()
plt.show()
distance = {name: float(np.linalg.norm(path[-1])) for name, path in paths.items()}
print(
    "distance to the minimum after 60 steps:",
    ", ".join(f"{name} {value:.1g}" for name, value in distance.items()),
)
across = {name: path[:31, 1] for name, path in paths.items()}  # b, the steep direction
assert np.all(np.sign(across["SGD"][1:]) != np.sign(across["SGD"][:-1]))  # zig-zags
assert min(distance, key=distance.get) == "Momentum"
assert np.all(np.abs(across["RMSprop"][5:]) < 0.01) and distance["RMSprop"] > 0.3
assert distance["Adam"] < 0.1

# %% [markdown]
# SGD zig-zags across the valley (the sign of $b$ flips at every step) and crawls along
# it. Momentum builds up speed along the valley and ends closest to the minimum. RMSprop
# divides each coordinate's step by the size of its gradient: it drops to the valley floor
# within five steps, without a zig-zag, then walks along it with steps of about the
# learning rate, still short of the minimum. Adam adds momentum to that rescaling: it swings
# like a heavy ball and arrives.
#
# Now the real problem: the same network and data, four optimizers with usual learning
# rates, two epochs on 6,000 training images. Here we write the training loop out in full:
# forward, loss, backward, update.

# %%
real_settings = {
    "SGD": dict(lr=0.1),
    "Momentum": dict(lr=0.02, momentum=0.9),
    "RMSprop": dict(lr=1e-3),
    "Adam": dict(lr=1e-3),
}
loss_curves = {}
for name, settings in real_settings.items():
    run_rng = np.random.default_rng(course_seed(0))
    net = nn.mlp([784, 256, 128, 10], rng=run_rng)
    optimizer = nn.OPTIMIZERS[name](net.parameters(), net.gradients(), **settings)
    losses = []
    for _epoch in range(2):
        for x_batch, y_batch in nn.iterate_minibatches(
            X_train[:6000], y_train[:6000], 128, rng=run_rng
        ):
            logits = net.forward(x_batch)
            losses.append(cross_entropy.forward(logits, y_batch))
            net.backward(cross_entropy.backward(), input_grad=False)
            optimizer.step()
    loss_curves[name] = np.array(losses)


def smooth(values, width=10):
    return np.convolve(values, np.ones(width) / width, mode="valid")


fig, ax = plt.subplots(figsize=(6, 3.2))
for name, losses in loss_curves.items():
    ax.plot(smooth(losses), label=f"{name}, lr {real_settings[name]['lr']:g}")
ax.set(xlabel="step", ylabel="training loss (10-step mean)", ylim=(0.3, 2.5))
ax.legend(fontsize=8)
plt.show()
final_loss = {name: smooth(losses)[-1] for name, losses in loss_curves.items()}
best_other = min(loss for name, loss in final_loss.items() if name != "Adam")
check_claim(
    "lesson 4: best other optimizer's loss minus Adam's",
    best_other - final_loss["Adam"],
    at_least=0.0,
)  # Adam gets furthest
check_claim(
    "lesson 4: SGD's loss minus Adam's", final_loss["SGD"] - final_loss["Adam"], at_least=0.1
)
check_claim(
    "lesson 4: worst optimizer's loss after 2 epochs", max(final_loss.values()), at_most=1.0
)  # and all four do learn

# %% [markdown]
# All four learn; Adam gets furthest in these 94 steps, with no tuning, which is why it is
# the usual first choice. Well-tuned SGD with momentum often generalises as well or better
# on long runs; the comparison depends on the learning rates, so always tune them.

# %% [markdown]
# ## 8. The training loop
#
# One **epoch** is one pass over the training set in **mini-batches** of, say, 128 images:
# small enough for many updates per epoch, large enough for the matrix products to be
# efficient and the gradient estimate to be stable. Three rules matter:
#
# * **reshuffle every epoch**: batches in a fixed order let the network learn the order, and
#   sorted data (all T-shirts first) would be disastrous;
# * **evaluate on held-out data** in evaluation mode (dropout off), without updating;
# * **record the curves**: the training loss says whether it learns, the validation loss
#   whether it generalises.
#
# `iterate_minibatches` shuffles with one permutation per epoch and gathers each batch
# with `np.take(..., out=buffer)`: one copy of 128 rows into a reused buffer instead of
# copying the whole training set. `fit` runs epochs and returns one record per epoch.

# %% tags=["nbval-check-output"]
show_source(nn.iterate_minibatches, nn.train_epoch, nn.evaluate, nn.fit)

# %% [markdown]
# ## 9. Debugging, part 2: before training for real
#
# Four cheap checks catch most problems before you wait for a long run.
#
# **The loss at initialisation.** An untrained classifier should be unsure: about
# $1/10$ probability per class, hence a loss near $-\log\frac1{10} = \ln 10 \approx 2.30$.
# Much higher means its logits are far too large (a scale bug, e.g. pixels left at 0…255).


# %%
def initial_loss(images, scale_last_layer=1.0):
    fresh = nn.mlp([784, 256, 128, 10], rng=np.random.default_rng(course_seed(0)))
    fresh.layers[-1].params["W"] *= scale_last_layer
    return nn.evaluate(fresh, cross_entropy, images[:2000], y_train[:2000])[0]


loss_he = initial_loss(X_train)
loss_small_output = initial_loss(X_train, scale_last_layer=0.1)
loss_unscaled = initial_loss(X_train * 255)
print(
    f"ln 10 = {math.log(10):.2f}; initial loss: He init {loss_he:.1f}, output layer scaled "
    f"by 0.1 {loss_small_output:.1f}, pixels in 0..255 about {round(loss_unscaled, -2):.0f}"
)
check_claim("lesson 4: initial loss with He init", loss_he, at_least=2.3, at_most=2.8)
check_claim(
    "lesson 4: initial loss, output scaled by 0.1, minus ln 10",
    abs(loss_small_output - math.log(10)),
    at_most=0.02,
)
check_claim("lesson 4: initial loss with pixels in 0..255", loss_unscaled, at_least=20)

# %% [markdown]
# He initialisation gives a loss a little above $\ln 10$: its logits are not all near zero,
# so the first predictions are not quite uniform, which is fine. Scaling the output layer
# down makes them uniform. Forgetting to scale the pixels multiplies every logit by 255: a
# loss in the tens or hundreds before any training is the signature of that bug.
#
# **Overfit one tiny batch.** A correct network with enough parameters must be able to
# memorise 32 images. If it cannot, stop looking at hyperparameters: something is broken.

# %% tags=["live"]
tiny_x, tiny_y = X_train[:32], y_train[:32]
net = nn.mlp([784, 256, 128, 10], rng=np.random.default_rng(course_seed(0)))
optimizer = nn.Adam(net.parameters(), net.gradients(), lr=1e-3)
tiny_losses = []
for _step in range(100):
    tiny_losses.append(cross_entropy.forward(net.forward(tiny_x), tiny_y))
    net.backward(cross_entropy.backward(), input_grad=False)
    optimizer.step()
tiny_accuracy = np.mean(net.predict(tiny_x) == tiny_y)
print(
    f"loss {tiny_losses[0]:.2f} -> {tiny_losses[-1]:.3f} after 100 steps, "
    f"training accuracy {tiny_accuracy:.0%}"
)
check_claim("lesson 4: tiny batch, loss after 100 steps", tiny_losses[-1], at_most=0.01)
check_claim("lesson 4: tiny batch, training accuracy", tiny_accuracy, at_least=0.99)

# %% [markdown]
# **Gradient norms per layer.** After one backward pass, look at $\lVert\partial\mathcal
# L/\partial W\rVert$ for each layer. In a deep stack of sigmoids, the gradient passes
# through a factor $\sigma' \le 0.25$ at every layer on its way back: the first layers
# receive almost nothing and barely learn (the *vanishing gradient*). ReLU with He
# initialisation keeps the layers balanced.

# %%
gradient_norms = {}
for activation, init in [(nn.Sigmoid, "xavier"), (nn.ReLU, "he")]:
    deep = nn.mlp(
        [784] + [128] * 8 + [10],
        rng=np.random.default_rng(course_seed(0)),
        activation=activation,
        init=init,
    )
    cross_entropy.forward(deep.forward(X_train[:256]), y_train[:256])
    deep.backward(cross_entropy.backward())
    gradient_norms[activation.__name__] = [
        float(np.linalg.norm(grad)) for name, grad in deep.grads.items() if name.endswith("W")
    ]

fig, ax = plt.subplots(figsize=(6, 3.2))
for name, norms in gradient_norms.items():
    ax.semilogy(range(1, len(norms) + 1), norms, marker="o", label=f"9 layers, {name}")
ax.set(
    xlabel="dense layer (1 = closest to the input)",
    ylabel="‖∂L/∂W‖",
    title="gradient norms after one backward pass",
)
ax.legend()
plt.show()
sigmoid_norms, relu_norms = gradient_norms["Sigmoid"], gradient_norms["ReLU"]
check_claim(
    "lesson 4: sigmoid gradient norm, last layer over first",
    sigmoid_norms[-1] / sigmoid_norms[0],
    at_least=1000,
)  # vanishing
check_claim(
    "lesson 4: ReLU gradient norms, largest over smallest",
    max(relu_norms) / min(relu_norms),
    at_most=10,
)  # balanced

# %% [markdown]
# **Learning rate too low, too high, and dead ReLUs.** Train the same network for one
# epoch on 10,000 images with three learning rates. Too low: the loss hardly moves. Too high:
# huge updates throw the loss up and kill units. A ReLU unit whose input is negative for
# every example outputs 0 and passes back zero gradient, so it never recovers: it is
# **dead**. `ReLU.active` records which units were positive in the last forward pass.


# %%
def dead_fraction(net, images):
    """The fraction of the first hidden layer's units that are 0 for every image."""
    net.eval()
    net.forward(images)
    return float(np.mean(~net.layers[1].active.any(axis=0)))


learning_rate_runs = {}
for lr in (1e-5, 1e-3, 1e-1):
    run_rng = np.random.default_rng(course_seed(0))
    net = nn.mlp([784, 256, 128, 10], rng=run_rng)
    optimizer = nn.Adam(net.parameters(), net.gradients(), lr=lr)
    losses = []
    for x_batch, y_batch in nn.iterate_minibatches(
        X_train[:10000], y_train[:10000], 128, rng=run_rng
    ):
        losses.append(cross_entropy.forward(net.forward(x_batch), y_batch))
        net.backward(cross_entropy.backward(), input_grad=False)
        optimizer.step()
    learning_rate_runs[lr] = (np.array(losses), dead_fraction(net, X_val[:2000]))

fig, ax = plt.subplots(figsize=(6, 3.2))
for lr, (losses, dead) in learning_rate_runs.items():
    ax.semilogy(losses, label=f"Adam lr={lr:g}: {dead:.0%} dead ReLUs")
ax.set(xlabel="step", ylabel="training loss", title="one epoch on 10,000 images")
ax.legend()
plt.show()
last = {lr: losses[-10:].mean() for lr, (losses, _) in learning_rate_runs.items()}
dead = {lr: fraction for lr, (_, fraction) in learning_rate_runs.items()}
check_claim("lesson 4: lr 1e-5, loss of the last 10 steps", last[1e-5], at_least=2.0)
check_claim("lesson 4: lr 1e-1, loss of the last 10 steps", last[1e-1], at_least=1.0)
check_claim("lesson 4: lr 1e-3, loss of the last 10 steps", last[1e-3], at_most=0.7)
check_claim("lesson 4: lr 1e-1, highest loss", max(learning_rate_runs[1e-1][0]), at_least=50)
check_claim("lesson 4: lr 1e-1, dead ReLUs", dead[1e-1], at_least=0.9)
check_claim("lesson 4: lr 1e-3, dead ReLUs", dead[1e-3], at_most=0.2)

# %%
for lr, (losses, fraction) in learning_rate_runs.items():
    print(
        f"lr={lr:<6g} loss of the last 10 steps {losses[-10:].mean():5.2f}   "
        f"dead ReLUs in layer 1: {fraction:.0%}"
    )

# %% [markdown]
# With a good learning rate a small fraction of units may die too, which is harmless.
# Almost all dead means the layer has stopped learning: lower the learning rate, and check
# the initialisation and the input scale.

# %% [markdown]
# ## 10. Training for real
#
# Everything is checked; now the full run. Adam with a **cosine learning-rate schedule**
# (large steps first, then smaller ones to settle into a minimum) trains the
# 784-256-128-10 network, reshuffling every epoch and evaluating on the validation set. The
# course's training monitor draws the curves live.

# %% tags=["live"]
EPOCHS, PEAK_LR = 10, 2e-3


def cosine_schedule(epoch):
    return PEAK_LR * 0.5 * (1 + math.cos(math.pi * epoch / EPOCHS))


train_rng = np.random.default_rng(course_seed(0))
model = nn.mlp([784, 256, 128, 10], rng=train_rng)
initial_first_weights = model.layers[0].params["W"].copy()  # for section 11
optimizer = nn.Adam(model.parameters(), model.gradients(), lr=PEAK_LR)


# %%
started = time.perf_counter()
monitor = TrainingMonitor(title=f"NumPy MLP on {dataset}")
history = nn.fit(
    model,
    cross_entropy,
    optimizer,
    X_train,
    y_train,
    epochs=EPOCHS,
    batch_size=128,
    rng=train_rng,
    validation_data=(X_val, y_val),
    lr_schedule=cosine_schedule,
    monitor=monitor,  # logs every epoch's numbers, as PyTorch's fit does in lesson 5
)
training_seconds = time.perf_counter() - started
test_loss, test_accuracy = nn.evaluate(model, cross_entropy, X_test, y_test)
print(f"{EPOCHS} epochs in {training_seconds:.1f} s; test accuracy {test_accuracy:.1%}")

# %%
check_claim("lesson 4: NumPy MLP test accuracy", test_accuracy, at_least=0.885)
assert len(history) == EPOCHS
check_claim(
    "lesson 4: training loss, first epoch over last",
    history[0]["loss"] / history[-1]["loss"],
    at_least=2,
)

# %% [markdown]
# That beats the "MLP 256-128-100" entry (88.3 %) of Fashion-MNIST's benchmark table, with
# plain NumPy. Read the curves: the training loss keeps falling while the validation loss
# flattens, and training accuracy ends above validation accuracy. The gap is
# **overfitting** starting; regularisation (the exercise) narrows it.

# %%
train_accuracy, val_accuracy = history[-1]["acc"], history[-1]["val_acc"]
check_claim(
    "lesson 4: training minus validation accuracy", train_accuracy - val_accuracy, at_least=0.0
)  # the generalisation gap described above
half = EPOCHS // 2
train_gain = history[half - 1]["loss"] - history[-1]["loss"]
val_gain = history[half - 1]["val_loss"] - history[-1]["val_loss"]
check_claim(
    "lesson 4: second half, validation gain over training gain", val_gain / train_gain, at_most=0.6
)  # in the second half, validation improves much less

# %% [markdown]
# ## 11. Looking at what it learned
#
# **Predictions.** A grid of test images with the predicted class; red titles are mistakes
# (with the true class in brackets).

# %%
test_predictions = model.predict(X_test)
probabilities = nn.softmax(model.predict_logits(X_test))
fig, axes = plt.subplots(4, 8, figsize=(12, 6.6))
for index, ax in enumerate(axes.flat):
    predicted, true = test_predictions[index], y_test[index]
    ax.imshow(test_images[index], cmap="gray_r")
    title = f"{class_names[predicted]}\n{probabilities[index, predicted]:.0%}"
    if predicted != true:
        title += f" ({class_names[true]})"
    ax.set_title(title, fontsize=8, color="black" if predicted == true else "red")
    ax.axis("off")
fig.suptitle("the first 32 test images: prediction and confidence (true class if wrong)")
plt.show()
assert np.mean(test_predictions == y_test) == test_accuracy

# %% [markdown]
# **Confusion matrix.** Row $i$, column $j$ counts test images of class $i$ predicted as
# $j$; the diagonal holds the correct ones. Off the diagonal, you see *which* classes the
# network mixes up.

# %%
n_classes = len(class_names)
confusion = np.zeros((n_classes, n_classes), dtype=int)
np.add.at(confusion, (y_test, test_predictions), 1)

fig, ax = plt.subplots(figsize=(7, 6))
image = ax.imshow(confusion, cmap="Blues")
for i in range(n_classes):
    for j in range(n_classes):
        ax.text(
            j,
            i,
            confusion[i, j],
            ha="center",
            va="center",
            fontsize=7,
            color="white" if confusion[i, j] > confusion.max() / 2 else "black",
        )
ax.set_xticks(range(n_classes), class_names, rotation=45, ha="right")
ax.set_yticks(range(n_classes), class_names)
ax.set(xlabel="predicted", ylabel="true")
fig.colorbar(image)
plt.show()

errors = confusion.copy()
np.fill_diagonal(errors, 0)
true_class, predicted_class = np.unravel_index(errors.argmax(), errors.shape)
per_class = confusion.diagonal() / confusion.sum(axis=1)
print(f"hardest class: {class_names[per_class.argmin()]}")
assert confusion.sum() == len(y_test) and confusion.trace() == (test_predictions == y_test).sum()
if dataset == "fashion-mnist":
    shirt = class_names.index("Shirt")
    others = np.delete(per_class, shirt)
    check_claim(
        "lesson 4: next-hardest class's accuracy minus Shirt's",
        others.min() - per_class[shirt],
        at_least=0.0,
    )
    assert "Shirt" in (class_names[true_class], class_names[predicted_class])
    look_alikes = [class_names.index(name) for name in ("T-shirt/top", "Pullover", "Coat")]
    check_claim(
        "lesson 4: share of Shirt's mistakes that are T-shirt, pullover or coat",
        errors[shirt, look_alikes].sum() / errors[shirt].sum(),
        at_least=0.7,
    )
    check_claim(
        "lesson 4: Trouser accuracy", per_class[class_names.index("Trouser")], at_least=0.95
    )
    check_claim("lesson 4: Bag accuracy", per_class[class_names.index("Bag")], at_least=0.95)

# %% [markdown]
# On Fashion-MNIST, shirts are the hardest class, confused with T-shirts, pullovers and
# coats: at 28×28 pixels in grey, a collar or buttons are a handful of pixels. Trousers and
# bags are nearly perfect.
#
# **First-layer weights.** Column $k$ of $W$ in the first layer holds the 784 weights of
# hidden unit $k$: reshaped to 28×28, it is the pattern that unit responds to (red: pixels
# that excite it, blue: pixels that inhibit it).

# %%
first_weights = model.layers[0].params["W"]
fig, axes = plt.subplots(4, 8, figsize=(10, 5.4))
for unit, ax in enumerate(axes.flat):
    pattern = first_weights[:, unit].reshape(28, 28)
    limit = np.abs(pattern).max()
    ax.imshow(pattern, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.axis("off")
fig.suptitle("weights of the first 32 hidden units, as images")
plt.show()


def neighbour_correlation(weights):
    """Correlation between the weights of horizontally adjacent pixels, over all units."""
    images = weights.T.reshape(-1, 28, 28)
    return float(np.corrcoef(images[:, :, :-1].ravel(), images[:, :, 1:].ravel())[0, 1])


smoothness_before = neighbour_correlation(initial_first_weights)
smoothness_after = neighbour_correlation(first_weights)
print(
    f"correlation of neighbouring weights: {round(smoothness_before, 2) + 0.0:.2f} at "
    f"initialisation, {smoothness_after:.1f} after training"
)
check_claim(
    "lesson 4: neighbour correlation at initialisation", abs(smoothness_before), at_most=0.02
)
check_claim("lesson 4: neighbour correlation after training", smoothness_after, at_least=0.1)

# %% [markdown]
# Much of the random initialisation is still there after ten epochs, but training has added
# smooth blobs and edges: every update of these weights, $X^\top G$, is a weighted sum of
# training images, and images are smooth. At initialisation, neighbouring weights are
# independent; after training, they are clearly correlated. A dense layer still has no
# built-in notion of neighbouring pixels (it must learn it, unit by unit), which is why
# convolutional networks, built around that notion, do better on images.
#
# ## 12. Why it is fast
#
# The training above ran on one CPU core; the last cell of this section prints the time
# per epoch here. The ingredients of that speed, all visible in the code above:
#
# * **float32** halves memory traffic and doubles the numbers BLAS processes per
#   instruction compared with float64;
# * **no allocation in the loop**: layers write into buffers they own (`out=`), so the
#   same few arrays stay in the CPU's caches;
# * the **fused softmax cross-entropy** and its one-line gradient;
# * **one gather per batch** (`np.take(..., out=)`) instead of copying the shuffled data set;
# * **skipping the input gradient** of the first layer;
# * few, cheap Python calls per batch: each NumPy call does only its computation, while
#   PyTorch's eager mode also dispatches and records every operation for autograd.
#
# `bench/bench_numpy_vs_torch.py` times this network against the same network in PyTorch
# (CPU, eager) and reports the ratio of epoch times; run it on your machine.

# %%
print(
    f"mean epoch time here: {np.mean([r['seconds'] for r in history]):.2f} s "
    f"(including the validation pass)"
)

# %% [markdown]
# ## Common mistakes
#
# * **Keeping a layer's output** (`a = layer.forward(x1); b = layer.forward(x2)`) when the
#   layer reuses its buffer: `a` now holds the second result. Copy what you keep.
# * **Softmax, then `log`, then cross-entropy** as three steps: NaN for large logits. Use
#   the fused layer and feed it logits, not probabilities.
# * **Checking gradients in float32**: relative errors of $10^{-2}$ that look like bugs.
#   Check in float64.
# * **Not reshuffling**, or shuffling images and labels with different permutations
#   (the network then learns noise: accuracy stays at 10 %).
# * **Forgetting `eval()`** when evaluating a network with dropout: noisy, too-low
#   validation accuracy.
# * **Tuning on the test set**: choose epochs and learning rates with the validation set;
#   look at the test set once.
# * **Unscaled inputs** (0…255): huge initial loss and dead ReLUs after a few steps.

# %% [markdown]
# ## Check your understanding
#
# 1. A `Dense(784, 256)` layer receives a batch of 128 images. What are the shapes of
#    $\partial\mathcal{L}/\partial W$, $\partial\mathcal{L}/\partial b$ and
#    $\partial\mathcal{L}/\partial X$?
# 2. Why does `SoftmaxCrossEntropy` subtract each row's maximum, and why does this not
#    change the loss?
# 3. Your 10-class network starts with a loss of 40. Name one likely cause.
# 4. Why can a dead ReLU unit never come back to life by gradient descent?
# 5. What does Adam's factor $1/(1-\beta_1^t)$ correct, and when does it matter?
#
# <details><summary>Answers</summary>
#
# 1. $(784, 256)$ like $W$, $(256,)$ like $b$, and $(128, 784)$ like $X$.
# 2. To keep every exponent $\le 0$ so $e^{z}$ cannot overflow. Softmax is unchanged when the
#    same constant is subtracted from all logits of a row (it cancels between numerator and
#    denominator), so the loss is unchanged.
# 3. Logits far too large: inputs not scaled to [0, 1], a too-large initialisation, or a
#    missing division somewhere. The expected value is $\ln 10 \approx 2.3$.
# 4. Its output is 0 for every input, so the gradient through it is 0 for every input, and
#    its incoming weights and bias receive zero gradient: nothing changes them.
# 5. The averages $m$ and $v$ start at zero, so early on they are too small; dividing by
#    $1-\beta^t$ rescales them. It matters in the first few hundred steps and fades as
#    $\beta^t \to 0$.
#
# </details>

# %%
check_layer = nn.Dense(784, 256, rng=rng)
check_layer.forward(np.zeros((128, 784), dtype=np.float32))
answer = check_layer.backward(np.ones((128, 256), dtype=np.float32))
assert check_layer.grads["W"].shape == (784, 256) and check_layer.grads["b"].shape == (256,)
assert answer.shape == (128, 784)
shifted = cross_entropy.forward(np.array([[1.0, 2.0, 3.0]]), np.array([2]))
assert abs(shifted - cross_entropy.forward(np.array([[101.0, 102.0, 103.0]]), np.array([2]))) < 1e-9

# %% [markdown]
# ## Summary
#
# * A layer is a `forward`/`backward` pair; parameters and their gradients live side by
#   side (`params`, `grads`). A model chains layers; a loss starts the backward pass.
# * Softmax and cross-entropy are fused: stable for any logits, gradient $(p - y)/B$.
# * He initialisation for ReLU (Xavier for tanh/sigmoid) keeps signals and gradients at
#   a usable scale through many layers.
# * SGD, momentum, RMSprop and Adam differ in how they turn gradients into steps; Adam is a
#   robust default, and every learning rate needs tuning.
# * Before a long run: check gradients (float64), the initial loss ($\approx\ln C$), that a
#   tiny batch can be overfitted, gradient norms per layer, and dead units.
# * With these parts, a 784-256-128-10 network reaches about 89 % on Fashion-MNIST in
#   ten epochs, in NumPy.
#
# **Practice:** the exercise [04-regularisation](exercises/04-regularisation.ipynb)
# fights the overfitting seen in section 10 with regularisation.
#
# **Next:** [05-pytorch-basics.ipynb](05-pytorch-basics.ipynb) does all of this with
# PyTorch, whose autograd writes the backward passes for you.
