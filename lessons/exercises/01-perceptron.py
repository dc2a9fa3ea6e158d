# %% [markdown]
# # Exercise 1 · A perceptron from scratch (30 min)
#
# > **How this exercise works.** Each task is a function for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your function on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](solutions/01-perceptron.ipynb) are there for after you tried.
#
# **Objectives.** After this exercise you can
# - compute a perceptron's prediction, including the boundary case $z = 0$;
# - implement Rosenblatt's learning rule and its training loop with NumPy;
# - explain, with your own code as evidence, why a perceptron cannot learn XOR.
#
# **Background:** [lesson 1](../01-perceptron.ipynb). A perceptron with weights $w$ and
# bias $b$ predicts
#
# $$\hat y = \operatorname{step}(w \cdot x + b), \qquad
#   \operatorname{step}(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}$$
#
# and learns from one sample $(x, y)$ at a time:
# $w \leftarrow w + \eta\,(y - \hat y)\,x$ and $b \leftarrow b + \eta\,(y - \hat y)$.

# %%
import numpy as np

from widgets.checks import ex01_perceptron as check

# %% [markdown]
# ## Task 1 · Predict
#
# Write `predict(weights, bias, x)`: `weights` and `x` are 1-D arrays of the same length
# (one entry per feature), `bias` a number. Return the class, `0` or `1`.

# %% tags=["nbval-check-output"]
def predict(weights, bias, x):
    """The perceptron's class for one sample: 1 if w·x + b >= 0, else 0."""
    raise NotImplementedError("Task 1: predict the class of one sample")


check.predict(predict)

# %% [markdown]
# ## Task 2 · One step of the learning rule
#
# Write `perceptron_update(weights, bias, x, target, learning_rate)` returning the pair
# `(new_weights, new_bias)` after seeing one sample. Use your `predict`. Do not modify
# `weights` in place: return a new array.
#
# Stuck? Run `check.hint(2)`; run it again for the next hint. Or click the button below
# (in a running notebook), once per hint.

# %%
check.hint.button(2)

# %% tags=["nbval-check-output"]
def perceptron_update(weights, bias, x, target, learning_rate):
    """Rosenblatt's rule on one sample: (new_weights, new_bias)."""
    raise NotImplementedError("Task 2: one step of the perceptron learning rule")


check.perceptron_update(perceptron_update)

# %% [markdown]
# ## Task 3 · The training loop
#
# Write `train_perceptron(X, y, learning_rate, epochs)`. `X` has one sample per row, `y`
# holds the labels 0/1. Start from zero weights and a zero bias, visit the samples in the
# order given, and apply `perceptron_update` to each. Stop after an epoch (a full pass)
# without a mistake, or after `epochs` epochs. Return `(weights, bias)`.
#
# The check trains on AND, OR, NAND and two Gaussian blobs, and compares your final
# weights with those of lesson 1's perceptron.

# %% tags=["nbval-check-output"]
def train_perceptron(X, y, learning_rate=1.0, epochs=100):
    """Train from zero weights; returns (weights, bias)."""
    raise NotImplementedError("Task 3: the training loop")


check.train_perceptron(train_perceptron)

# %% [markdown]
# ## Task 4 · XOR
#
# Nothing to write here: the check trains *your* perceptron on XOR for 100 epochs and
# counts the samples it gets right.

# %% tags=["nbval-check-output"]
check.xor(train_perceptron)

# %% [markdown]
# ## Reflection
#
# 1. Why does the boundary case $z = 0$ matter for training from zero weights?
# 2. Train on AND with learning rates 1, 0.5 and 0.1. Does each final boundary separate
#    the data? How are the weights related? Why?
# 3. Your XOR run ends with some samples wrong. Which is the smallest change to the
#    *network* (not to the rule) that can solve XOR?

# %% [markdown]
# **Next:** [exercise 2](02-forward-and-backward-by-hand.ipynb), forward and backward
# propagation by hand.
