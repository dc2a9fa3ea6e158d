# %% [markdown]
# # Exercise 1 · A perceptron from scratch (45 min)
#
# > **How this exercise works.** Each task is a function for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your function on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](solutions/01-perceptron.ipynb) are there for after you tried.
#
# **Objectives.** After this exercise you can
# - compute a perceptron's prediction, including the boundary case $z = 0$;
# - implement Rosenblatt's learning rule in its classic form with labels $\pm 1$ (lesson 1
#   used 0/1), and its training loop, with NumPy;
# - explain, with your own code as evidence, why a perceptron cannot learn XOR.
#
# **Background:** [lesson 1](../01-perceptron.ipynb). Lesson 1's perceptron uses the
# classes 0 and 1: $\hat y = \operatorname{step}(w \cdot x + b)$ with
# $\operatorname{step}(0) = 1$, and learns from one sample $(x, y)$ at a time with
# $w \leftarrow w + \eta\,(y - \hat y)\,x$, $b \leftarrow b + \eta\,(y - \hat y)$.
#
# Rosenblatt's papers, and most textbooks, use the classes $-1$ and $+1$ instead:
#
# $$\hat y = \operatorname{sign}(w \cdot x + b), \qquad
#   \operatorname{sign}(z) = \begin{cases} +1 & z \ge 0 \\ -1 & z < 0. \end{cases}$$
#
# In this exercise you write that form yourself. Translating the rule is part of the work.

# %%
import numpy as np

from widgets.checks import ex01_perceptron as check

# %% [markdown]
# ## Task 1 · Predict
#
# Write `predict(weights, bias, x)`: `weights` and `x` are 1-D arrays of the same length
# (one entry per feature), `bias` a number. Return the class, `-1` or `+1`.

# %% tags=["nbval-check-output"]
def predict(weights, bias, x):
    """The perceptron's class for one sample, -1 or +1 (the boundary is +1)."""
    raise NotImplementedError("Task 1: predict the class of one sample")


check.predict(predict)

# %% [markdown]
# ## Task 2 · One step of the learning rule
#
# Write `perceptron_update(weights, bias, x, target, lr)` returning the pair
# `(new_weights, new_bias)` after seeing one sample whose `target` is $-1$ or $+1$. It must
# make the same moves as lesson 1's rule: nothing on a right prediction, and on a mistake a
# step of size $\eta$ (`lr`) that moves the boundary towards classifying $x$ correctly.
# Work out what $(y - \hat y)$ becomes with labels $\pm 1$. Do not modify `weights` in
# place: return a new array.
#
# Stuck? Run `check.hint(2)`; run it again for the next hint. Or click the button below
# (in a running notebook), once per hint.

# %%
check.hint.button(2)

# %% tags=["nbval-check-output"]
def perceptron_update(weights, bias, x, target, lr):
    """Rosenblatt's rule on one sample with labels -1/+1: (new_weights, new_bias)."""
    raise NotImplementedError("Task 2: one step of the perceptron learning rule")


check.perceptron_update(perceptron_update)

# %% [markdown]
# ## Task 3 · The training loop
#
# Write `train_perceptron(X, y, lr, epochs)`. `X` has one sample per row, `y` holds the
# labels $-1$/$+1$. Start from zero weights and a zero bias, visit the samples in the
# order given, and apply `perceptron_update` to each. Stop after an epoch (a full pass)
# without a mistake, or after `epochs` epochs. Return `(weights, bias)`.
#
# The check trains on AND, OR, NAND and two Gaussian blobs (labels $\pm 1$), and compares
# your final weights with those of lesson 1's 0/1 rule on the same data.

# %% tags=["nbval-check-output"]
def train_perceptron(X, y, lr=1.0, epochs=100):
    """Train from zero weights on labels -1/+1; returns (weights, bias)."""
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
# ## Stretch (optional) · The pocket algorithm
#
# *Optional, about 15 minutes. There is no fixed answer: the check re-runs your experiment
# and tells you whether the numbers you claim are the ones it measures.*
#
# On data that no line separates, the perceptron never settles, and its *last* weights can
# be poor. Gallant's **pocket algorithm** keeps, "in its pocket", the best weights seen so
# far (the ones with the fewest training mistakes) and returns those. Write `pocket()`
# that trains on the noisy moons below for 50 epochs with your update rule, and
# returns a dict with at least the training accuracy of the last weights
# (`"last accuracy"`) and of the pocket's (`"pocket accuracy"`). Put the numbers your
# answer quotes into `claims`: how much does the pocket gain?

# %%
from widgets.toy_data import make_moons

X_overlap, y_overlap01 = make_moons(60, noise=0.3, seed=0)  # no line separates them
y_overlap = 2 * y_overlap01 - 1


def pocket():
    """Train on noisy moons; the accuracy of the last weights and of the pocket's."""
    raise NotImplementedError("Stretch: the pocket algorithm")


claims = {}  # the numbers your answer quotes, e.g. {"pocket accuracy": 0.9}

# %%
pocket_report = check.pocket(pocket, claims)

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
