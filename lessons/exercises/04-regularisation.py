# %% [markdown]
# # Exercise 4 · Classification with regularisation (75 min)
#
# > **How this exercise works.** Each task is a function for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your function on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](solutions/04-regularisation.ipynb) are there for after you tried.
#
# **Objectives.** After this exercise you can
# - implement a regulariser lesson 4 did not show, Gaussian dropout, forward and backward;
# - implement an L1 penalty inside a gradient-descent step, and tell it from weight decay;
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
# ## Task 1 · Gaussian dropout, forward
#
# Lesson 4's inverted dropout multiplies each unit by a random factor: $0$ with probability
# $p$, else $1/(1-p)$. That factor has mean 1 and variance $p/(1-p)$. **Gaussian dropout**
# (Srivastava et al., 2014) keeps the mean and the variance but draws the factor from a
# normal distribution, so no unit is switched off entirely:
#
# $$\text{noise}_{ij} \sim \mathcal N\!\left(1,\ \frac{p}{1-p}\right), \qquad
#   \text{out} = x \odot \text{noise}.$$
#
# Write `gaussian_dropout_forward(x, p, rng, training)` returning `(out, noise)`. Draw the
# random numbers from the generator `rng` (one standard-normal draw per entry of `x`, in
# its shape), so that a seeded run is reproducible. With `training=False`, return `x`
# unchanged and noise of ones.


# %% tags=["nbval-check-output"]
def gaussian_dropout_forward(x, p, rng, training):
    """Gaussian dropout: (x * noise, noise), the identity when not training."""
    raise NotImplementedError("Task 1: Gaussian dropout, forward")


check.gaussian_dropout_forward(gaussian_dropout_forward)

# %% [markdown]
# ## Task 2 · Gaussian dropout, backward
#
# Write `gaussian_dropout_backward(grad_output, noise)` returning $\partial L/\partial x$
# given $\partial L/\partial\,\text{out}$ and the noise of the forward pass.


# %% tags=["nbval-check-output"]
def gaussian_dropout_backward(grad_output, noise):
    """dL/dx of out = x * noise."""
    raise NotImplementedError("Task 2: Gaussian dropout, backward")


check.gaussian_dropout_backward(gaussian_dropout_backward)

# %% [markdown]
# ## Task 3 · An L1 penalty
#
# Lesson 4's optimizers implement weight decay, an L2 penalty. An **L1** penalty
# $\lambda\sum_i\lvert\theta_i\rvert$ pushes every weight towards 0 by the same amount,
# whatever its size, which drives unimportant weights to (nearly) zero:
#
# $$\theta \leftarrow \theta
#   - \eta\,\bigl(\nabla_\theta L + \lambda\,\operatorname{sign}(\theta)\bigr),
#   \qquad \operatorname{sign}(0) = 0.$$
#
# Write `sgd_step(params, grads, lr, l1)`: `params` and `grads` are lists of arrays in the
# same order; update each parameter **in place** (the model holds these very arrays) and
# leave the gradients unchanged.


# %% tags=["nbval-check-output"]
def sgd_step(params, grads, lr, l1):
    """One SGD step with an L1 penalty, updating the arrays in params in place."""
    raise NotImplementedError("Task 3: an SGD step with an L1 penalty")


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
# ## Stretch (optional) · Dropout against weight decay
#
# *Optional, about 30 minutes. There is no fixed answer: the check re-runs your experiment
# and tells you whether the numbers you claim are the ones it measures.*
#
# Which cures this overfit better: dropout or weight decay? Design a small ablation with
# `check.train_moons(weight_decay=..., dropout=...)` (it returns the model and
# `(train accuracy, validation loss, validation accuracy)`): compare each regulariser
# alone, at its best value among a few you try, and both together. Write `ablation()`
# returning a dict of the numbers your conclusion rests on (e.g. `"best dropout
# validation loss"`), and put the ones your answer quotes into `claims`.


# %%
def ablation():
    """Each regulariser alone at its best tried value, and both together."""
    raise NotImplementedError("Stretch: the ablation")


claims = {}  # the numbers your answer quotes, e.g. {"best dropout validation loss": 0.4}

# %%
ablation_report = check.ablation(ablation, claims)

# %% [markdown]
# ## Reflection
#
# 1. Why must the noise of (Gaussian or inverted) dropout have mean 1, rather than, say,
#    mean $1 - p$?
# 2. With a weight decay of 0.3 the check reports a training accuracy of 50 %. What
#    happened to the network?
# 3. Weight decay improved the validation *loss* far more than the validation *accuracy*.
#    What does an overfit network do to its loss on points it gets wrong?

# %% [markdown]
# **Next:** [exercise 5](05-pytorch-mnist.ipynb), a PyTorch network for MNIST.
