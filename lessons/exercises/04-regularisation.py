# %% [markdown]
# # Exercise 4 · Classification with regularisation (45 min)
#
# > **How this exercise works.** Each task is a function for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your function on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](solutions/04-regularisation.ipynb) are there for after you tried.
#
# **Objectives.** After this exercise you can
# - implement inverted dropout, forward and backward, as lesson 4's NumPy network does;
# - implement weight decay (an L2 penalty) inside a gradient-descent step;
# - recognise overfitting from training and validation numbers, and tune regularisation
#   until it is cured, without tipping into underfitting.
#
# **Background:** [lesson 4](../04-numpy-implementation.ipynb) (the NumPy network,
# its `Dropout` layer and optimizers) and the regularisation part of
# [lesson 6](../06-pytorch-advanced.ipynb).

# %%
import matplotlib.pyplot as plt
import numpy as np

from widgets.checks import ex04_regularisation as check
from widgets.claims import check_claim
from widgets.decision_regions import plot_decision_regions

# %% [markdown]
# ## Task 1 · Dropout, forward
#
# During training, dropout sets each unit to 0 with probability $p$. *Inverted* dropout
# also divides the kept units by $1 - p$, so that each unit's expected value is unchanged
# and evaluation can use the network as it is:
#
# $$\text{mask}_{ij} = \frac{[u_{ij} \ge p]}{1 - p},\quad u_{ij} \sim U(0, 1), \qquad
#   \text{out} = x \odot \text{mask}.$$
#
# Write `dropout_forward(x, p, rng, training)` returning `(out, mask)`. Draw the random
# numbers from the generator `rng` (`rng.random(x.shape)`), so that a seeded run is
# reproducible. With `training=False`, return `x` unchanged and a mask of ones.


# %% tags=["nbval-check-output"]
def dropout_forward(x, p, rng, training):
    """Inverted dropout: (x * mask, mask), the identity when not training."""
    raise NotImplementedError("Task 1: inverted dropout, forward")


check.dropout_forward(dropout_forward)

# %% [markdown]
# ## Task 2 · Dropout, backward
#
# Write `dropout_backward(grad_output, mask)` returning $\partial L/\partial x$ given
# $\partial L/\partial\,\text{out}$ and the mask of the forward pass.


# %% tags=["nbval-check-output"]
def dropout_backward(grad_output, mask):
    """dL/dx of out = x * mask."""
    raise NotImplementedError("Task 2: inverted dropout, backward")


check.dropout_backward(dropout_backward)

# %% [markdown]
# ## Task 3 · Weight decay
#
# An L2 penalty $\frac{\lambda}{2}\lVert\theta\rVert^2$ added to the loss adds
# $\lambda\theta$ to every gradient, so each step also shrinks the weights towards 0:
#
# $$\theta \leftarrow \theta - \eta\,(\nabla_\theta L + \lambda\,\theta).$$
#
# This is what `weight_decay` means in `torch.optim.SGD` and in lesson 4's optimizers.
# Write `sgd_step(params, grads, learning_rate, weight_decay)`: `params` and `grads` are
# lists of arrays in the same order; update each parameter **in place** and leave the
# gradients unchanged.


# %% tags=["nbval-check-output"]
def sgd_step(params, grads, learning_rate, weight_decay):
    """One SGD step with weight decay, updating the arrays in params in place."""
    raise NotImplementedError("Task 3: an SGD step with weight decay")


check.sgd_step(sgd_step)

# %% [markdown]
# ## Task 4 · Cure an overfit
#
# Sixty noisy points of two interleaved moons are far too few for a network with two
# hidden layers of 64 units: trained for 500 epochs with Adam, it learns every training
# point (100 % training accuracy) with a contorted boundary, and its validation loss on
# 1,000 fresh points is high. Lesson 4's `fit` trains it; you choose the regularisation.
#
# Write `choose_regularisation()` returning a dict `{"weight_decay": ..., "dropout": ...}`.
# The check trains the network with and without your settings and passes when the
# validation loss at least halves while the validation accuracy does not drop. Try a few
# values and read the numbers the check prints.


# %%
def choose_regularisation():
    """The weight decay and dropout that cure the overfit."""
    raise NotImplementedError("Task 4: choose the regularisation")


regularisation_report = check.regularisation(choose_regularisation)

# %% [markdown]
# Once your choice passes, the two networks' decision regions show what changed: the
# overfit boundary winds around single training points, the regularised one is smooth.

# %%
if regularisation_report.passed:
    X_moons, y_moons, _, _ = check.moons()
    figure, axes_pair = plt.subplots(1, 2, figsize=(8, 3.2))
    for axes, settings in zip(axes_pair, [{}, choose_regularisation()], strict=True):
        model, _ = check.train_moons(**settings)
        described = ", ".join(f"{key}={value:g}" for key, value in settings.items())
        plot_decision_regions(
            axes, model.predict, X_moons, y_moons, title=described or "no regularisation"
        )
    plt.show()

# %% [markdown]
# ## Reflection
#
# 1. Why must dropout scale the kept units during training (or, equivalently, scale
#    everything down at evaluation)?
# 2. With a weight decay of 0.3 the check reports a training accuracy of 50 %. What
#    happened to the network?
# 3. Weight decay improved the validation *loss* far more than the validation *accuracy*.
#    What does an overfit network do to its loss on points it gets wrong?

# %% [markdown]
# **Next:** [exercise 5](05-pytorch-mnist.ipynb), a PyTorch network for MNIST.
