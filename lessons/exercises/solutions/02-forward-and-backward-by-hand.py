# %% [markdown]
# # Exercise 2 · Forward and backward propagation by hand (45 min)
#
# <!-- SOLUTION -->
# > **This is the solution.** Students work in the
# > [student version](../02-forward-and-backward-by-hand.ipynb), which is generated from this
# > notebook by `make student`.
# <!-- END SOLUTION -->
# <!-- STUDENT
# > **How this exercise works.** Each task is a function for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your function on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](02-forward-and-backward-by-hand.ipynb) are there for after you tried.
# -->
#
# **Objectives.** After this exercise you can
# - apply the chain rule to one sigmoid neuron and to a two-layer network, symbol by symbol;
# - compute a forward pass and every gradient of a small network for one example;
# - verify gradients numerically with central finite differences.
#
# **Background:** [lesson 2](../../02-feedforward-networks.ipynb) (forward propagation)
# and [lesson 3](../../03-backpropagation.ipynb) (the chain rule, backpropagation).

# %%
import numpy as np

from widgets.activations import sigmoid
from widgets.checks import ex02_by_hand as check

# %% [markdown]
# ## Task 1 · One neuron
#
# A single sigmoid neuron with one input computes
#
# $$z = w x + b, \qquad \hat y = \sigma(z), \qquad L = (\hat y - t)^2 .$$
#
# Derive $\partial L/\partial w$ and $\partial L/\partial b$ with the chain rule, on paper
# first, then write `single_neuron_gradients(w, b, x, t)` returning the pair
# `(dL_dw, dL_db)`. Recall $\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$.

# %% tags=["nbval-check-output"]
def single_neuron_gradients(w, b, x, t):
    """(dL/dw, dL/db) for L = (σ(w x + b) − t)²."""
    # SOLUTION Task 1: the gradients of one sigmoid neuron
    y_hat = sigmoid(w * x + b)
    dL_dz = 2 * (y_hat - t) * y_hat * (1 - y_hat)
    return float(dL_dz * x), float(dL_dz)
    # END SOLUTION


check.single_neuron_gradients(single_neuron_gradients)

# %% [markdown]
# ## Task 2 · Forward pass of a two-layer network
#
# The network of lesson 2 has a hidden layer of sigmoid units and one sigmoid output.
# Weight matrices have one row per unit of their layer, so for one example $x$:
#
# $$z_1 = W_1 x + b_1,\quad h = \sigma(z_1),\quad z_2 = W_2 h + b_2,\quad \hat y = \sigma(z_2).$$
#
# With $n$ inputs and $m$ hidden units: `x` has shape `(n,)`, `W1` `(m, n)`, `b1` `(m,)`,
# `W2` `(1, m)` and `b2` `(1,)`. Return the four intermediate vectors `(z1, h, z2, y_hat)`:
# the backward pass needs them. The check tries several sizes, not only 2-2-1.

# %% tags=["nbval-check-output"]
def forward(x, W1, b1, W2, b2):
    """(z1, h, z2, y_hat) of the sigmoid network for one example x."""
    # SOLUTION Task 2: the forward pass
    z1 = W1 @ x + b1
    h = sigmoid(z1)
    z2 = W2 @ h + b2
    return z1, h, z2, sigmoid(z2)
    # END SOLUTION


check.forward(forward)

# %% [markdown]
# ## Task 3 · Backward pass
#
# With $L = (\hat y - t)^2$, go backwards through the network. Name each layer's error
# $\delta = \partial L / \partial z$:
#
# $$\delta_2 = 2(\hat y - t)\,\sigma'(z_2), \qquad
#   \delta_1 = (W_2^\top \delta_2) \odot \sigma'(z_1).$$
#
# A weight's gradient is its layer's $\delta$ times that layer's input:
# $\partial L/\partial W_2 = \delta_2 h^\top$, $\partial L/\partial b_2 = \delta_2$, and the
# same for layer 1 with $x$. Write `backward(x, t, W1, b1, W2, b2)` returning
# `(dW1, db1, dW2, db2)`, each with the shape of its parameter (`t` has shape `(1,)`).

# %% tags=["nbval-check-output"]
def backward(x, t, W1, b1, W2, b2):
    """(dW1, db1, dW2, db2) of L = (ŷ − t)² for one example."""
    # SOLUTION Task 3: backpropagation through both layers
    z1, h, z2, y_hat = forward(x, W1, b1, W2, b2)
    delta2 = 2 * (y_hat - t) * y_hat * (1 - y_hat)
    delta1 = (W2.T @ delta2) * h * (1 - h)
    return np.outer(delta1, x), delta1, np.outer(delta2, h), delta2
    # END SOLUTION


check.backward(backward)

# %% [markdown]
# ## Task 4 · Numerical gradient
#
# A derivative is a limit: $\partial L/\partial\theta_i \approx
# \dfrac{L(\theta + \varepsilon e_i) - L(\theta - \varepsilon e_i)}{2\varepsilon}$.
# This central difference is accurate to order $\varepsilon^2$. Write
# `numerical_gradient(loss, parameter, epsilon)`: `loss()` takes no argument and reads the
# array `parameter` (as a network's loss reads its weights), so change one entry of
# `parameter` in place, evaluate, change it the other way, evaluate, and restore it.
# Return an array shaped like `parameter`.

# %% tags=["nbval-check-output"]
def numerical_gradient(loss, parameter, epsilon=1e-6):
    """Central finite-difference estimate of d loss() / d parameter."""
    # SOLUTION Task 4: central finite differences
    gradient = np.zeros_like(parameter, dtype=float)
    for index in np.ndindex(parameter.shape):
        original = parameter[index]
        parameter[index] = original + epsilon
        loss_plus = loss()
        parameter[index] = original - epsilon
        loss_minus = loss()
        parameter[index] = original
        gradient[index] = (loss_plus - loss_minus) / (2 * epsilon)
    return gradient
    # END SOLUTION


check.numerical_gradient(numerical_gradient)

# %% [markdown]
# ## Task 5 · Check your backpropagation
#
# Nothing new to write: this check runs your `backward` on a 3-4-1 network and compares
# each gradient with your `numerical_gradient` (the relative error
# $\lVert a - n\rVert / (\lVert a\rVert + \lVert n\rVert)$ is about $10^{-9}$ when both
# agree). This is how you test backpropagation code in practice, with no reference at hand.

# %% tags=["nbval-check-output"]
check.gradients_agree(backward, numerical_gradient)

# %% tags=["solution"]
# Every check above printed ✓. Verdicts that quote training figures are not compared as
# text by the notebook tests (their digits differ between machines), so assert them here.
from widgets.checks import assert_all_passed

assert_all_passed()

# %% [markdown]
# ## Reflection
#
# 1. Why does $\delta_1$ use $W_2^\top$ rather than $W_2$?
# 2. With $\varepsilon = 10^{-6}$, the numerical gradient costs two forward passes per
#    parameter. How many forward passes would it take for a network with a million weights,
#    and how many does backpropagation need?
# 3. When $\hat y$ is close to 0 or 1 the gradients above become tiny even if $\hat y$ is
#    wrong. Which factor causes this, and what does it mean for training?
#
# <!-- SOLUTION -->
# **Answers.**
# 1. $z_2 = W_2 h + b_2$, so $\partial z_{2,k}/\partial h_j = (W_2)_{kj}$: each hidden unit
#    collects the errors of the units it feeds, weighted by the same weights, which is a
#    product with $W_2^\top$. The shapes agree: $W_2^\top$ is $(m, 1)$, $\delta_2$ is $(1,)$.
# 2. Two million forward passes, against one forward and one backward pass (roughly the
#    cost of two or three forward passes) for backpropagation: the numerical gradient is a
#    test, not a training method.
# 3. The sigmoid's derivative $\hat y(1-\hat y)$: it is at most $1/4$ and near 0 when the
#    unit saturates, so a confidently wrong sigmoid output learns slowly. This is one reason
#    classifiers pair a softmax (or sigmoid) output with the cross-entropy loss, whose
#    gradient $\hat y - t$ has no such factor (lesson 3).
# <!-- END SOLUTION -->
#
# **Next:** [exercise 3](03-mlp-numpy.ipynb), a multi-layer network in NumPy for whole
# batches.
