# %% [markdown]
# # Exercise 2 · Forward and backward propagation by hand (60 min)
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
# - verify gradients numerically with central finite differences along random directions
#   (a cheaper variant of lesson 3's entry-by-entry check).
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
# ## Task 4 · A derivative along a direction
#
# Lesson 3 checks gradients entry by entry: two loss evaluations per weight, millions for
# a real network. A cheaper test moves *all* weights at once along a direction $d$: the
# central difference
#
# $$D_d L(\theta) \approx
#   \frac{L(\theta + \varepsilon d) - L(\theta - \varepsilon d)}{2\varepsilon}$$
#
# approximates $\nabla L(\theta) \cdot d$ (accurate to order $\varepsilon^2$), so a few
# random directions test a whole gradient with a few loss evaluations. Write
# `directional_derivative(loss, parameter, direction, epsilon)`: `loss()` takes no argument
# and reads the array `parameter` (as a network's loss reads its weights), so move
# `parameter` itself, evaluate, move it to the other side, evaluate, and leave it
# **exactly** as it was. Return a number.

# %% tags=["nbval-check-output"]
def directional_derivative(loss, parameter, direction, epsilon=1e-6):
    """Central finite-difference estimate of the derivative of loss() along direction."""
    # SOLUTION Task 4: the central difference along a direction
    saved = parameter.copy()
    step = epsilon * np.asarray(direction, dtype=float)
    np.add(saved, step, out=parameter)
    above = loss()
    np.subtract(saved, step, out=parameter)
    below = loss()
    parameter[...] = saved
    return (above - below) / (2 * epsilon)
    # END SOLUTION


check.directional_derivative(directional_derivative)

# %% [markdown]
# ## Task 5 · Check your backpropagation
#
# Nothing new to write: this check runs your `backward` on a 3-4-1 network and compares
# each gradient, along three random directions, with your `directional_derivative` (the
# relative error $\lvert a - n\rvert / (\lvert a\rvert + \lvert n\rvert)$ is about
# $10^{-9}$ when both agree). This is how you test backpropagation code in practice, with
# no reference at hand.

# %% tags=["nbval-check-output"]
check.gradients_agree(backward, directional_derivative)

# %% [markdown]
# ## Stretch (optional) · How small should ε be?
#
# *Optional, about 20 minutes. There is no fixed answer: the check re-runs your experiment
# and tells you whether the numbers you claim are the ones it measures.*
#
# The error of a central difference has two sources: the truncation error, which shrinks
# like $\varepsilon^2$, and the rounding error of the two loss values, which *grows* like
# $10^{-16}/\varepsilon$. Write `epsilon_sweep()` that computes, for
# $\varepsilon = 10^{-1}, 10^{-2}, \dots, 10^{-12}$, the relative error between your
# `backward`'s $\partial L/\partial W_1$ along a fixed direction and your
# `directional_derivative`, on the network below; return a dict with at least
# `"best log10 epsilon"` (the exponent with the smallest error) and `"smallest error"`.
# Put the numbers your answer quotes into `claims`. Does the best $\varepsilon$ match the
# balance of the two error sources?

# %%
sweep_rng = np.random.default_rng(0)
x_sweep, t_sweep = sweep_rng.normal(size=3), np.array([0.7])
W1_sweep, b1_sweep = sweep_rng.normal(size=(4, 3)), sweep_rng.normal(size=4)
W2_sweep, b2_sweep = sweep_rng.normal(size=(1, 4)), sweep_rng.normal(size=1)
direction_sweep = sweep_rng.normal(size=(4, 3))


def epsilon_sweep():
    """The exponent of the best epsilon and the error it reaches."""
    # SOLUTION Stretch: the best epsilon
    def sweep_loss():
        y_hat = forward(x_sweep, W1_sweep, b1_sweep, W2_sweep, b2_sweep)[3]
        return float(np.sum((y_hat - t_sweep) ** 2))

    dW1 = backward(x_sweep, t_sweep, W1_sweep, b1_sweep, W2_sweep, b2_sweep)[0]
    exact = float(np.sum(dW1 * direction_sweep))
    errors = {}
    for exponent in range(-1, -13, -1):
        estimate = directional_derivative(sweep_loss, W1_sweep, direction_sweep, 10.0**exponent)
        errors[exponent] = abs(estimate - exact) / (abs(estimate) + abs(exact))
    best = min(errors, key=errors.get)
    return {"best log10 epsilon": best, "smallest error": errors[best]}
    # END SOLUTION


claims = {}  # the numbers your answer quotes, e.g. {"best log10 epsilon": -3}

# %% tags=["solution"]
# The solution's answer quotes this run's exponent (the error itself is rounding noise).
claims = {"best log10 epsilon": epsilon_sweep()["best log10 epsilon"]}
print(claims)

# %%
sweep_report = check.epsilon_sweep(epsilon_sweep, claims)

# %% tags=["solution"]
# Every check above printed ✓. Verdicts that quote training figures are not compared as
# text by the notebook tests (their digits differ between machines), so assert them here.
from widgets.checks import assert_all_passed

assert_all_passed()

# %% [markdown]
# ## Reflection
#
# 1. Why does $\delta_1$ use $W_2^\top$ rather than $W_2$?
# 2. Lesson 3's numerical gradient costs two forward passes per parameter. How many
#    forward passes would it take for a network with a million weights, how many does your
#    check along 3 directions need, and how many does backpropagation need?
# 3. When $\hat y$ is close to 0 or 1 the gradients above become tiny even if $\hat y$ is
#    wrong. Which factor causes this, and what does it mean for training?
#
# <!-- SOLUTION -->
# **Answers.**
# 1. $z_2 = W_2 h + b_2$, so $\partial z_{2,k}/\partial h_j = (W_2)_{kj}$: each hidden unit
#    collects the errors of the units it feeds, weighted by the same weights, which is a
#    product with $W_2^\top$. The shapes agree: $W_2^\top$ is $(m, 1)$, $\delta_2$ is $(1,)$.
# 2. Two million forward passes entry by entry; six along 3 directions (a random direction
#    catches a wrong gradient with probability 1, though it does not say which entry is
#    wrong); one forward and one backward pass (roughly the cost of two or three forward
#    passes) for backpropagation. Finite differences are a test, not a training method.
# 3. The sigmoid's derivative $\hat y(1-\hat y)$: it is at most $1/4$ and near 0 when the
#    unit saturates, so a confidently wrong sigmoid output learns slowly. This is one reason
#    classifiers pair a softmax (or sigmoid) output with the cross-entropy loss, whose
#    gradient $\hat y - t$ has no such factor (lesson 3).
# <!-- END SOLUTION -->
#
# **Next:** [exercise 3](03-mlp-numpy.ipynb), a multi-layer network in NumPy for whole
# batches.
