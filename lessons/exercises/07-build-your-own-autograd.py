# %% [markdown]
# # Exercise 7 · Build your own autograd (75 min)
#
# > **How this exercise works.** Each task is code for you to write: until you do, it
# > raises `NotImplementedError` and its check says *not done yet*. Run the check cell below
# > each task: it tests your code on hidden cases and says ✓ or what is wrong. Stuck?
# > `check.hint(N)` reveals task N's hints one at a time. The
# > [solutions](solutions/07-build-your-own-autograd.ipynb) are there for after you tried.
#
# **Objectives.** After this exercise you can
# - write the forward value and the local gradients of an operation as a small closure;
# - turn a computational graph into a topological order and run the chain rule over it;
# - train a neural network with an engine you wrote, and watch it in the course's stepper.
#
# **Background:** [lesson 3](../03-backpropagation.ipynb), sections 2 and 3. The lesson's
# engine keeps each operation's local gradients in a *rule*; here you build the other
# classic design, the one of Andrej Karpathy's *micrograd*: every node carries a
# `_backward` closure that pushes its gradient into its inputs. Plan about 45 minutes for
# tasks 1–4 and 30 for tasks 5–6; the stretch task is optional.

# %%
import math
import random

import matplotlib.pyplot as plt
import numpy as np

from widgets.checks import ex07_autograd as check
from widgets.claims import check_claim, course_seed
from widgets.decision_regions import plot_decision_regions
from widgets.toy_data import make_moons


def add_to_class(cls):
    """Decorator: attach the function below to ``cls`` as a method, so the class grows
    cell by cell, one task at a time."""

    def attach(function):
        setattr(cls, function.__name__, function)
        return function

    return attach


# %% [markdown]
# ## The engine, and two worked operations
#
# A `Value` holds a number (`data`), the gradient of the final output with respect to it
# (`grad`, filled by the backward pass), the nodes it was computed from (`_prev`), the
# name of its operation (`_op`), and `_backward`: a function that, once `out.grad` is
# known, **adds** `out.grad × ∂out/∂input` into each input's `grad`. Adding, not
# assigning: a node used twice receives one contribution from each use.
#
# Multiplication and `tanh` are written for you. Read them: every operation you write
# follows the same three steps (the new node, its closure, return it). Each task's cell
# attaches its methods to the class with `@add_to_class(Value)`; if you run the class's
# cell again, run the task cells after it again too.

# %%
class Value:
    """A scalar that remembers how it was computed (a node of the graph)."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)  # a tuple, so that a + a remembers a twice
        self._op = _op
        self._backward = lambda: None  # a leaf has nothing to pass on
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # ∂(a·b)/∂a = b and ∂(a·b)/∂b = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other):  # 3 * a: Python calls a.__rmul__(3)
        return self * other

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():  # d tanh(x)/dx = 1 − tanh(x)²
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    # Subtraction and division come for free from +, * and ** (tasks 1 and 2).
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __truediv__(self, other):
        return self * other**-1


# %% [markdown]
# ## Task 1 · Addition
#
# Write `__add__`, so that `a + b` and `a + 3` give a new `Value` with its `_backward`,
# and `__radd__`, which Python calls for `3 + a`. What is $\partial(a+b)/\partial a$?
# The check calls your `_backward` directly, with a gradient already sitting in the
# inputs, and tries `a + a`.

# %% tags=["nbval-check-output"]
@add_to_class(Value)
def __add__(self, other):
    raise NotImplementedError("Task 1: a + b and its _backward")


@add_to_class(Value)
def __radd__(self, other):
    raise NotImplementedError("Task 1: 3 + a")


check.add(Value)

# %% [markdown]
# ## Task 2 · Powers with a constant exponent
#
# Write `__pow__` for `x ** k` where `k` is a plain number (`x ** 2`, `x ** -1`,
# `x ** 0.5`). Name the operation `f"**{k}"`: the stepper at the end reads the exponent
# from the name. Division (`a / b`, given above) now works too.

# %% tags=["nbval-check-output"]
@add_to_class(Value)
def __pow__(self, k):
    assert isinstance(k, (int, float)), "only a constant exponent"
    raise NotImplementedError("Task 2: x ** k and its _backward")


check.power(Value)

# %% [markdown]
# ## Task 3 · ReLU and exp
#
# Write `relu()` (name it `"relu"`) and `exp()` (name it `"exp"`). At exactly 0, take
# relu's slope to be 0, as PyTorch does.

# %% tags=["nbval-check-output"]
@add_to_class(Value)
def relu(self):
    raise NotImplementedError("Task 3: relu and its _backward")


@add_to_class(Value)
def exp(self):
    raise NotImplementedError("Task 3: exp and its _backward")


check.relu_and_exp(Value)

# %% [markdown]
# ## Task 4 · The backward pass
#
# `L.backward()` must fill the `grad` of every node `L` depends on with $\partial L /
# \partial \text{node}$. A node may pass its gradient on (run its `_backward`) only when
# its own gradient is complete, that is, after **every** node that uses it has run. An
# order of the nodes in which each node comes after all of its inputs is a *topological
# order*; run the closures in the reverse of one. Lesson 3 found that order with a
# depth-first search. Try the other classic way here, Kahn's algorithm: count how many
# nodes use each node; start from the output; when a node has run, take one off the count
# of each of its inputs, and an input whose count reaches 0 is ready to run (any correct
# order passes the check). Set every `grad` to 0 first and the output's own to 1, so that
# `backward()` can run again after the numbers changed, as in training.
#
# The check compares your gradients with PyTorch on expressions it builds, and watches
# the order in which your `backward()` runs the closures.

# %% tags=["nbval-check-output"]
@add_to_class(Value)
def backward(self):
    raise NotImplementedError("Task 4: a topological order, then the chain rule in reverse")


check.backward(Value)

# %% [markdown]
# ## Task 5 · A two-layer network made of your Values
#
# The network below scores a point $x \in \mathbb R^2$: $s = W_2\,\mathrm{relu}(W_1 x +
# b_1) + b_2$, with `W1` of shape `(n_hidden, 2)` and `W2` of shape `(1, n_hidden)`, as
# nested lists of `Value`s (one row per unit, as in the lessons). A positive score means
# class $+1$, a negative one class $-1$. The initialisation is written; write `__call__`,
# which takes a point (a list of 2 numbers) and returns the score as one `Value`.

# %% tags=["nbval-check-output"]
class TwoLayerNet:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = random.Random(seed)  # a generator of its own: the global one stays untouched
        self.W1 = [
            [Value(rng.gauss(0, 1 / math.sqrt(n_in)), label=f"W1[{j}][{k}]") for k in range(n_in)]
            for j in range(n_hidden)
        ]
        self.b1 = [Value(0.0, label=f"b1[{j}]") for j in range(n_hidden)]
        self.W2 = [
            [Value(rng.gauss(0, 1 / math.sqrt(n_hidden)), label=f"W2[0][{j}]")
             for j in range(n_hidden)]
        ]
        self.b2 = [Value(0.0, label="b2[0]")]

    def parameters(self):
        return [w for row in self.W1 + self.W2 for w in row] + self.b1 + self.b2

    def __call__(self, x):
        raise NotImplementedError("Task 5: the score W2 relu(W1 x + b1) + b2")


check.two_layer_net(TwoLayerNet)

# %% [markdown]
# ## Task 6 · Training with your engine
#
# Write `train(model, X, y, steps, batch_size, lr, seed)`: stochastic gradient descent on
# the mean **hinge loss** $\frac1B \sum_i \mathrm{relu}(1 - y_i s_i)$ over a batch of
# $B$ random points ($y_i = \pm 1$, $s_i$ the model's score). Each step draws a batch with
# `rng = random.Random(seed)` (made once, before the loop), computes the loss, calls
# `backward()`, and moves each parameter by $-\mathrm{lr}\times$ its gradient. Return the
# list of the `steps` losses, as numbers. The hinge loss is 0 for a point on the right
# side with a margin of at least 1, so only the doubtful points push the weights.

# %% tags=["nbval-check-output"]
def train(model, X, y, steps, batch_size, lr, seed=0):
    """SGD on the mean hinge loss; returns one loss (a float) per step."""
    raise NotImplementedError("Task 6: the training loop")


check.train(train, TwoLayerNet)

# %% [markdown]
# ### Two moons
#
# Two interleaving half circles: no line separates them. The inputs are centred and
# scaled to about unit spread, the labels turned into $\pm 1$; 200 points train, 200 new
# ones test.

# %%
def moons(n, seed):
    X, labels = make_moons(n, noise=0.1, seed=seed)
    return (X - [0.5, 0.25]) / [0.87, 0.5], 2 * labels - 1


X_train, y_train = moons(200, seed=0)
X_test, y_test = moons(200, seed=1)

# %% [markdown]
# Now train a `TwoLayerNet(2, 16)` on `X_train` with 200 steps of 10 points and `lr=1.0`
# (a few seconds: every score is a graph of about 130 of your `Value`s), measure the
# accuracy on `X_test` (the sign of the score), and draw the decision regions with
# `plot_decision_regions`. Above 95 % is within reach.

# %% [markdown]
# ## Watch your engine in the stepper
#
# The course's `BackpropStepper` (lesson 3) replays a graph one node at a time. Given an
# expression of your engine, it rebuilds the graph with **your** operations: the values
# and local gradients it shows come from your `_backward` closures, and its numerical
# check column tests them. A network with 2 hidden units, on one training point, is small
# enough to draw: press *Next* through the forward pass, then the backward pass, and watch
# `b1[0]` and `W1[0][0]` collect their gradients.

# %% tags=["nbval-check-output"]
def one_point_loss():
    tiny = TwoLayerNet(2, 2, seed=2)  # a start where both hidden units are active
    x = [Value(v, label=f"x[{k}]") for k, v in enumerate(X_train[0])]  # named, drawn once
    loss = (1 - float(y_train[0]) * tiny(x)).relu()
    loss.label = "L"
    return loss, tiny.parameters()


stepper = check.stepper(one_point_loss)

# %%
stepper

# %% [markdown]
# ## Stretch task (optional) · log, and a smoother loss
#
# Add `log()` (name it `"log"`; defined for $x > 0$). With `exp` and `log` you can
# train with the *logistic loss* $\log(1 + e^{-y s})$ instead of the hinge: it never
# reaches 0, so every point keeps pushing, a little. Try it: change the loss in a copy of
# `train`, and compare the test accuracy and the decision regions with the hinge's.

# %% tags=["nbval-check-output"]
@add_to_class(Value)
def log(self):
    raise NotImplementedError("Stretch: log and its _backward")


check.log(Value)

# %% [markdown]
# ## Reflection
#
# 1. Your `__add__` wraps a plain number in a `Value`. That new leaf also receives a
#    gradient in the backward pass. Is it ever used?
# 2. Why must `backward()` reset every `grad` to 0 first, and what would go wrong in
#    `train` if it did not?
# 3. One training step above builds thousands of `Value`s. What does PyTorch do
#    differently, so that the same network trains thousands of times faster?
#
#
# **Next:** [exercise 3](03-mlp-numpy.ipynb) writes the same network with matrices, the
# way real libraries do, and [lesson 4](../04-numpy-implementation.ipynb) builds a
# complete one.
