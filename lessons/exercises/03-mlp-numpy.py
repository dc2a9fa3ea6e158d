# %% [markdown]
# # Exercise 3 · A multi-layer network in NumPy (90 min)
#
# > **How this exercise works.** Each task is a function for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your function on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](solutions/03-mlp-numpy.ipynb) are there for after you tried.
#
# **Objectives.** After this exercise you can
# - write a fully connected layer's forward and backward pass for a whole batch, with
#   matrices instead of loops, including batches of sequences (lesson 3 showed 2-D only);
# - implement a numerically stable, label-smoothed softmax cross-entropy and its gradient;
# - train a two-layer network with gradient descent on a problem no line can solve.
#
# **Background:** [lesson 3](../03-backpropagation.ipynb). The conventions are the
# lesson's: a batch `A` has one example per **row**, a layer's weights `W` have shape
# `(n_out, n_in)` and its bias `b` shape `(n_out,)`, so
#
# $$Z = A W^\top + b, \qquad
#   \frac{\partial L}{\partial W} = \Delta^\top A, \quad
#   \frac{\partial L}{\partial b} = \textstyle\sum_{\text{rows}} \Delta, \quad
#   \frac{\partial L}{\partial A} = \Delta W,$$
#
# where $\Delta = \partial L / \partial Z$ has one row per example.

# %%
import matplotlib.pyplot as plt
import numpy as np

from widgets.checks import ex03_mlp_numpy as check
from widgets.claims import check_claim, course_seed
from widgets.decision_regions import plot_decision_regions
from widgets.toy_data import make_spirals

# %% [markdown]
# ## Task 1 · A layer's forward pass
#
# Write `dense_forward(A_prev, W, b)` returning `Z`. Unlike lesson 3's layers, yours must
# also take a batch of *sequences*: `A_prev` has shape `(..., n_in)` (e.g. `(batch, time,
# n_in)`), every row along the last axis is one example, and `Z` has shape `(..., n_out)`.
# `W` is `(n_out, n_in)`. A layer is also where shapes meet, so yours must **refuse inputs
# that do not fit** (`A_prev`'s last axis is not `W`'s `n_in`, or `b` does not have `n_out`
# entries) with a `ValueError` whose message shows the three shapes: NumPy's own errors
# show none of them.

# %% tags=["nbval-check-output"]
def dense_forward(A_prev, W, b):
    """Z = A_prev Wᵀ + b for inputs of shape (..., n_in)."""
    raise NotImplementedError("Task 1: a layer's forward pass")


check.dense_forward(dense_forward)

# %% [markdown]
# ## Task 2 · A layer's backward pass
#
# Given `delta` $= \partial L/\partial Z$ (shape `(..., n_out)`), the layer's input
# `A_prev` (shape `(..., n_in)`) and its weights `W`, return `(dW, db, dA_prev)`. Each has
# the shape of what it differentiates. The check includes batches of sequences, and a
# square `W`, where a transpose gives no shape error but wrong numbers.

# %% tags=["nbval-check-output"]
def dense_backward(delta, A_prev, W):
    """(dL/dW, dL/db, dL/dA_prev) from delta = dL/dZ, for inputs of shape (..., n_in)."""
    raise NotImplementedError("Task 2: a layer's backward pass")


check.dense_backward(dense_backward)

# %% [markdown]
# ## Task 3 · Softmax cross-entropy with label smoothing
#
# Lesson 3's loss compares the softmax with a one-hot target. **Label smoothing** (used to
# train most large image classifiers) softens the target: with $K$ classes and a
# smoothing $\varepsilon$, the target of example $i$ is
#
# $$q_{ik} = (1 - \varepsilon)\,[k = y_i] + \frac{\varepsilon}{K}, \qquad
#   L = -\frac1n \sum_i \sum_k q_{ik} \log p_{ik}, \qquad p_i = \operatorname{softmax}(Z_i),$$
#
# so the network is never pushed towards infinitely confident logits. Work out
# $\partial L/\partial Z$ (the one-hot case generalises), then write
# `softmax_cross_entropy(logits, labels, smoothing=0.0)` returning `(loss, gradient)`.
# The check feeds logits of ±1000: `np.exp(1000)` is `inf`, so compute the log-softmax
# stably.

# %% tags=["nbval-check-output"]
def softmax_cross_entropy(logits, labels, smoothing=0.0):
    """Mean label-smoothed cross-entropy of softmax(logits), and dL/dlogits."""
    raise NotImplementedError("Task 3: label-smoothed softmax cross-entropy and its gradient")


check.softmax_cross_entropy(softmax_cross_entropy)

# %% [markdown]
# ## Task 4 · Train a network on three spirals
#
# Three interleaved spirals cannot be separated by lines, so a perceptron fails; a hidden
# layer of `tanh` units can bend the boundaries.

# %%
X_spirals, y_spirals = make_spirals(300, classes=3, noise=0.2, seed=0)
plt.figure(figsize=(3.5, 3.5))
plt.scatter(*X_spirals.T, c=y_spirals, cmap="viridis", s=12)
plt.title("three spirals (300 points)")
plt.axis("equal")
plt.show()

# %% [markdown]
# Write `train_network(X, y, n_hidden, lr, epochs, seed)`: the network is
# `X → dense (n_hidden units) → tanh → dense (3 logits)`, trained with full-batch gradient
# descent on the softmax cross-entropy. Use your functions from tasks 1–3, initialise with
# `rng = np.random.default_rng(seed)`, each `W` drawn from $\mathcal N(0, 1/n_\text{in})$
# and biases at zero. Return `((W1, b1, W2, b2), losses)` with one loss per epoch.
#
# The check trains with 50 hidden units, learning rate 1 and 2000 epochs (about a second)
# and measures the accuracy on 300 spiral points your network has never seen.

# %%
def train_network(X, y, n_hidden=50, lr=1.0, epochs=2000, seed=0):
    """Full-batch gradient descent; returns ((W1, b1, W2, b2), losses)."""
    raise NotImplementedError("Task 4: the training loop of a two-layer network")


check.train_network(train_network)

# %% [markdown]
# ## Stretch (optional) · Where does training diverge?
#
# *Optional, about 30 minutes. There is no fixed answer: the check re-runs your experiment
# and tells you whether the numbers you claim are the ones it measures.*
#
# The check trained with learning rate 1. Find the range where plain gradient descent on
# the spirals stops working: write `divergence()` that trains with your `train_network`
# (200 epochs are enough) for a range of learning rates you choose, decides for each
# whether training diverged (say, the last loss is NaN or above the first), and returns
# a dict with at least `"largest stable lr"` and `"smallest diverging lr"` among those you
# tried. Put the numbers your answer quotes into `claims`, and explain in a sentence why
# a too-large step makes the loss grow.


# %%
def divergence():
    """The largest learning rate that trained and the smallest that diverged."""
    raise NotImplementedError("Stretch: where training diverges")


claims = {}  # the numbers your answer quotes, e.g. {"smallest diverging lr": 50}

# %%
divergence_report = check.divergence(divergence, claims)

# %% [markdown]
# ## Reflection
#
# 1. `db` sums `delta` over the examples, but the loss is a *mean*. Where did the $1/n$ go?
# 2. What happens to training if you forget the `tanh` derivative `(1 − A1²)` in the
#    backward pass? Predict, then try it.
# 3. The loss at the very first epoch is close to $\ln 3 \approx 1.10$. Why is that what a
#    freshly initialised network should give?

# %% [markdown]
# **Next:** [exercise 4](04-regularisation.ipynb), regularisation against overfitting.
