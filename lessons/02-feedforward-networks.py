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
# # 2 · Feedforward networks (60 min)
#
# Lesson 1 ended with a wall: a single perceptron draws one straight line, so it can
# never separate XOR's corners. This lesson stacks neurons into **layers** and shows that
# the wall disappears.
#
# **By the end of this lesson you can**
#
# 1. write a multilayer perceptron (MLP) in the notation $z = Wx + b$, $a = \sigma(z)$,
#    and say the shape of every matrix and vector in it;
# 2. compute the forward pass for a whole batch with one matrix product per layer;
# 3. solve XOR with two layers, first with weights set by hand, then learned, and explain
#    *why* it works by looking at the hidden layer;
# 4. say what the universal approximation theorem promises, and what it does not;
# 5. predict how width and depth change the decision boundaries a network can draw.
#
# The code lives in `widgets/mlp_by_hand.py`, so that this lesson, lesson 3 and the
# exercises use the same functions; we show it here and explain it line by line.

# %%
import matplotlib.pyplot as plt
import numpy as np

from widgets.activations import sigmoid, softmax
from widgets.claims import check_claim, course_seed
from widgets.decision_regions import plot_decision_regions
from widgets.mlp_by_hand import (
    Layer,
    init_mlp,
    mlp_forward,
    mlp_loss,
    predict_classes,
    train_mlp,
)
from widgets.notebook import seed_everything, show_source
from widgets.toy_data import make_circles, make_gate, make_moons, make_spirals

rng = seed_everything(0)

# %% [markdown]
# ## 1. From one neuron to a layer
#
# A neuron takes inputs $x_1, \dots, x_n$, forms a weighted sum plus a bias, and passes it
# through an activation function $\sigma$:
#
# $$z = \sum_k w_k x_k + b = w^\top x + b, \qquad a = \sigma(z).$$
#
# A **layer** is several neurons reading the same inputs. Stack their weight vectors as the
# rows of a matrix $W$ and their biases into a vector $b$: unit $j$ of the layer computes
# $z_j = \sum_k W_{jk} x_k + b_j$, which is row $j$ of
#
# $$z = W x + b, \qquad a = \sigma(z) \quad\text{(σ applied to each entry)}.$$
#
# For a layer with $n_\text{in}$ inputs and $n_\text{out}$ units, $W$ has shape
# $(n_\text{out}, n_\text{in})$: **one row per unit, one column per input**, and $b$ has
# $n_\text{out}$ entries. The shapes in code:

# %% tags=["live", "nbval-check-output"]
n_in, n_out = 3, 4
W = rng.normal(size=(n_out, n_in))
b = np.zeros(n_out)
x = np.array([0.5, -1.0, 2.0])

z = W @ x + b
a = sigmoid(z)
print("W", W.shape, " x", x.shape, " b", b.shape, " ->  z", z.shape, " a", a.shape)
assert z.shape == a.shape == (n_out,)
assert np.isclose(z[1], sum(W[1, k] * x[k] for k in range(n_in)) + b[1])  # row 1 = unit 1

# %% [markdown]
# ### A batch: one example per row
#
# Data sets store one example per **row**, $X$ of shape $(N, n_\text{in})$. Writing the
# $N$ column vectors $x^{(i)}$ side by side and transposing gives the batch version of
# $z = Wx + b$:
#
# $$Z = X W^\top + b,$$
#
# with shapes $(N, n_\text{out}) = (N, n_\text{in}) \cdot (n_\text{in}, n_\text{out}) +
# (n_\text{out},)$, where NumPy's broadcasting adds $b$ to every row. Row $i$ of $Z$ is exactly
# $W x^{(i)} + b$: one matrix product computes the layer for all examples at once. This is
# also PyTorch's convention (`nn.Linear` stores `weight` with shape `(out, in)`).

# %% tags=["live", "nbval-check-output"]
X = rng.normal(size=(5, n_in))  # 5 examples
Z = X @ W.T + b
print("X", X.shape, "@ W.T", W.T.shape, "+ b", b.shape, "->", Z.shape)
assert Z.shape == (5, n_out)
assert np.allclose(Z[2], W @ X[2] + b)  # row i is the single-example formula

# %% [markdown]
# ## 2. Hidden layers: the multilayer perceptron
#
# Feed one layer's output into the next and you get a **multilayer perceptron**. With
# layers numbered by a superscript, $a^{0} = x$ and for $l = 1, \dots, L$:
#
# $$z^{l} = W^{l} a^{l-1} + b^{l}, \qquad a^{l} = \sigma^{l}(z^{l}), \qquad \hat y = a^{L}.$$
#
# The layers between input and output are **hidden**: no data says what their values
# should be; the network invents them. The output layer's activation depends on the task:
# the identity for regression, a sigmoid for a yes/no probability, a softmax (lesson 3)
# for several classes.
#
# The course's forward pass, used by every lesson from here on, is this loop (read the
# shape checks: they turn a wrong shape into a sentence instead of a broadcasting
# surprise three layers later):

# %% tags=["nbval-check-output"]
show_source(Layer, mlp_forward)

# %% [markdown]
# A network with 2 inputs, two hidden layers of 4 and 3 units and 1 output. Every
# intermediate array has one row per example:

# %% tags=["live", "nbval-check-output"]
layers = init_mlp([2, 4, 3, 1], hidden_activation="tanh", rng=rng)
cache = mlp_forward(layers, rng.normal(size=(6, 2)))
for number, (layer, Z_l) in enumerate(zip(layers, cache.pre_activations, strict=True), start=1):
    print(f"layer {number}: W{layer.W.shape}  b{layer.b.shape}  ->  Z and A {Z_l.shape}")
assert [A.shape for A in cache.activations] == [(6, 2), (6, 4), (6, 3), (6, 1)]

# %% [markdown]
# **Counting parameters.** Layer $l$ has $n_l \times n_{l-1}$ weights and $n_l$ biases.

# %% tags=["nbval-check-output"]
n_parameters = sum(layer.W.size + layer.b.size for layer in layers)
print("parameters:", n_parameters)
assert n_parameters == (4 * 2 + 4) + (3 * 4 + 3) + (1 * 3 + 1) == 31

# %% [markdown]
# ### Width and depth
#
# *Width* is the number of units in a layer; *depth* the number of layers. Both add
# parameters, but differently: a wide layer adds many features computed from the same
# inputs; an extra layer computes features *of features*. Section 5 shows both at work.
#
# ### Why the activation function is essential
#
# Without $\sigma$, two layers collapse into one: $W^2(W^1 x + b^1) + b^2 = (W^2 W^1) x +
# (W^2 b^1 + b^2)$, again a single linear layer. However many layers you stack, a network
# of linear layers draws one straight line. Checked:

# %% tags=["nbval-check-output"]
linear_layers = init_mlp([2, 8, 8, 1], hidden_activation="sigmoid", rng=rng)
for layer in linear_layers:
    layer.activation = "identity"
points = rng.normal(size=(10, 2))
W_merged = linear_layers[2].W @ linear_layers[1].W @ linear_layers[0].W
b_merged = linear_layers[2].W @ (linear_layers[1].W @ linear_layers[0].b + linear_layers[1].b)
b_merged = b_merged + linear_layers[2].b
assert np.allclose(mlp_forward(linear_layers, points).output, points @ W_merged.T + b_merged)
print("three linear layers == one linear layer with W of shape", W_merged.shape)

# %% [markdown]
# ## 3. XOR with two layers
#
# XOR is 1 when exactly one input is 1. No line separates $\{(0,1), (1,0)\}$ from
# $\{(0,0), (1,1)\}$, which is why lesson 1's perceptron failed. But XOR can be written
# with gates that *are* linearly separable:
#
# $$\text{XOR}(x_1, x_2) = \text{AND}\big(\text{OR}(x_1, x_2),\ \text{NAND}(x_1, x_2)\big).$$
#
# Each gate is one neuron. With a sigmoid and large weights the neuron is almost a step:
# OR fires when $x_1 + x_2 > 0.5$, NAND when $x_1 + x_2 < 1.5$, AND when both hidden
# units fire. We set the weights **by hand**:

# %% tags=["live", "nbval-check-output"]
hand_layers = [
    Layer(
        W=np.array([[20.0, 20.0], [-20.0, -20.0]]), b=np.array([-10.0, 30.0]), activation="sigmoid"
    ),
    Layer(W=np.array([[20.0, 20.0]]), b=np.array([-30.0]), activation="sigmoid"),
]
X_xor, y_xor = make_gate("XOR")
hand_cache = mlp_forward(hand_layers, X_xor)
hidden = hand_cache.activations[1]
for x_row, h_row, out in zip(X_xor, hidden, hand_cache.output[:, 0], strict=True):
    print(f"x = {x_row}   hidden (OR, NAND) = {np.round(h_row, 3)}   output = {out:.4f}")
assert np.array_equal(predict_classes(hand_layers, X_xor), y_xor)

# %% [markdown]
# ### What the hidden layer does
#
# Plot the four points twice: in the input space, and in the **hidden space** $(h_1, h_2)$
# the hidden layer maps them to. In the hidden space the two "1" points land on the same
# corner, $(1, 1)$, and the output neuron's line separates them from the rest. The hidden
# layer has *changed the representation* until the problem became linearly separable.


# %%
def plot_xor_representation(layers, title):
    hidden_points = mlp_forward(layers, X_xor).activations[1]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4.6), layout="constrained")
    for axes, points, name in (
        (left, X_xor, "input space"),
        (right, hidden_points, "hidden space"),
    ):
        axes.scatter(*points[y_xor == 0].T, s=150, marker="o", label="XOR = 0")
        axes.scatter(*points[y_xor == 1].T, s=150, marker="s", label="XOR = 1")
        axes.set(xlim=(-0.2, 1.2), ylim=(-0.2, 1.2), title=name, aspect="equal")
    left.set(xlabel="$x_1$", ylabel="$x_2$")
    right.set(xlabel="$h_1$", ylabel="$h_2$")
    # The output unit fires where w1 h1 + w2 h2 + b > 0: draw that line in hidden space.
    (w1, w2), bias = layers[1].W[0], layers[1].b[0]
    h1 = np.linspace(-0.2, 1.2, 2)
    right.plot(h1, -(w1 * h1 + bias) / w2, "k--", label="output unit's line")
    figure.legend(*right.get_legend_handles_labels(), loc="outside lower center", ncol=3)
    figure.suptitle(title)
    plt.show()


plot_xor_representation(hand_layers, "Hand-set weights: h₁ = OR, h₂ = NAND, output = AND")

# %% [markdown]
# ### Learning the weights
#
# Now let gradient descent find weights from a random start. `train_mlp` repeats: forward
# pass, loss, gradients, small step downhill. *How* the gradients are computed is
# lesson 3's topic (backpropagation); here we use it as a black box.

# %% tags=["live"]
learned_layers = init_mlp(
    [2, 2, 1],
    hidden_activation="sigmoid",
    output_activation="sigmoid",
    rng=np.random.default_rng(0),  # a start that solves XOR; the next cell counts how many do
)
history = train_mlp(learned_layers, X_xor, y_xor.reshape(-1, 1), lr=2.0, epochs=3000)
print(f"loss: {history[0]:.3f} at the start, {history[-1]:.4f} after {len(history)} steps")
print("predictions:", predict_classes(learned_layers, X_xor), " targets:", y_xor)
assert np.array_equal(predict_classes(learned_layers, X_xor), y_xor)
check_claim("lesson 2: XOR loss after 3000 steps, 2 hidden units", history[-1], at_most=0.01)

# %%
plot_xor_representation(
    learned_layers, "Learned weights: the network found its own hidden features"
)

# %% [markdown]
# The learned hidden units are not exactly OR and NAND, but they do the same job: they
# move the two "1" points to one side of a line. A network discovers *some* useful
# representation, rarely the one a person would pick.
#
# **Not every start succeeds.** With only two hidden units, some random starts have not
# solved XOR after 2000 steps. Count how many of 10 seeds solve it, with 2 and with 4
# hidden units, and look at the loss of the starts that fail:


# %%
def train_xor(hidden_units, seed):
    """2000 steps from one random start: (solved?, the loss before each step)."""
    layers = init_mlp(
        [2, hidden_units, 1],
        hidden_activation="sigmoid",
        output_activation="sigmoid",
        rng=np.random.default_rng(course_seed(seed)),
    )
    history = train_mlp(layers, X_xor, y_xor.reshape(-1, 1), lr=2.0, epochs=2000)
    return np.array_equal(predict_classes(layers, X_xor), y_xor), history


xor_runs = {units: [train_xor(units, seed) for seed in range(10)] for units in (2, 4)}
solved = {units: sum(done for done, _ in runs) for units, runs in xor_runs.items()}
print(f"solved XOR: {solved[2]}/10 starts with 2 hidden units, {solved[4]}/10 with 4")
check_claim("lesson 2: XOR solved by 2 hidden units, starts of 10", solved[2], at_most=9)
check_claim("lesson 2: XOR starts solved by 4 units minus by 2", solved[4] - solved[2], at_least=1)
stalled = [history for done, history in xor_runs[2] if not done]
for history in stalled:
    print(f"a failing start: loss {history[999]:.3f} after 1000 steps, "
          f"{history[-1]:.3f} after 2000")
check_claim(
    "lesson 2: failing starts' loss change over steps 1000-2000, median",
    np.median([history[999] - history[-1] for history in stalled]),
    at_most=0.02,
)

# %% [markdown]
# The failing starts have all but stopped moving: their loss barely changes between
# step 1000 and step 2000. From the loss alone you cannot tell two cases apart. A start
# may sit on a **plateau**, a flat region where the gradients are tiny: at a loss near
# $0.25$ (the loss of answering $0.5$ everywhere) it is still where every start begins,
# and more steps or a larger learning rate get it out. Or it may have settled with one
# or two points wrong in a **poor local minimum**. Lesson 3 looks at the plateau
# closely, and at a loss function that crosses it in about half the steps.
#
# More units than strictly necessary make training easier: there are more ways to be
# right. This is one reason practical networks are much wider than the minimum.
#
# ## 4. Universal approximation
#
# **Theorem (Cybenko 1989, Hornik 1991, informally).** A network with *one* hidden layer
# of enough sigmoid-like units and a linear output can approximate any continuous function
# on a closed, bounded interval (or box) as closely as you like.
#
# The idea: each tanh unit is a smooth step placed where $w x + b = 0$; a weighted sum of
# enough steps can follow any curve. Let us fit two periods of a sine, $y = \sin(2x)$ on
# $[-\pi, \pi]$, with 1, 3, 10 and 50 hidden units. We spread the hidden biases over the
# interval so that the steps start at different places. Each width is one training run
# from one random start; the claims below hold for each of five seeds (lessons/MARGINS.md
# records them).

# %%
x_train = np.linspace(-np.pi, np.pi, 100).reshape(-1, 1)
y_train = np.sin(2 * x_train)


def fit_sine(hidden_units):
    fit_rng = np.random.default_rng(course_seed(0))
    layers = init_mlp([1, hidden_units, 1], hidden_activation="tanh", rng=fit_rng)
    layers[0].W = fit_rng.normal(0, 2, size=(hidden_units, 1))
    layers[0].b = fit_rng.uniform(-2 * np.pi, 2 * np.pi, hidden_units)
    train_mlp(layers, x_train, y_train, lr=0.02, epochs=5000)
    return layers


widths = [1, 3, 10, 50]
sine_fits = {width: fit_sine(width) for width in widths}
fit_errors = {width: mlp_loss(layers, x_train, y_train) for width, layers in sine_fits.items()}
for width, error in fit_errors.items():
    print(f"{width:2d} hidden unit(s): mean squared error {error:.4f}")
# Each width fits better than the one before: the smallest ratio of consecutive errors.
improvement = min(
    fit_errors[a] / fit_errors[b] for a, b in zip(widths[:-1], widths[1:], strict=True)
)
check_claim("lesson 2: sine MSE ratio, each width to the next", improvement, at_least=1.0)
check_claim("lesson 2: sine MSE with 50 units", fit_errors[50], at_most=0.01)
check_claim("lesson 2: sine MSE with 1 unit", fit_errors[1], at_least=0.3)

# %%
x_plot = np.linspace(-1.5 * np.pi, 1.5 * np.pi, 300).reshape(-1, 1)
figure, axes_row = plt.subplots(1, 4, figsize=(14, 3.2), sharey=True)
for axes, width in zip(axes_row, widths, strict=True):
    axes.axvspan(-np.pi, np.pi, color="0.93", label="training interval")
    axes.plot(x_plot, np.sin(2 * x_plot), "k:", label="sin(2x)")
    axes.plot(x_plot, mlp_forward(sine_fits[width], x_plot).output, "C1", label="network")
    axes.set(title=f"{width} hidden unit(s) (MSE {fit_errors[width]:.3f})", ylim=(-1.8, 1.8))
axes_row[0].legend(loc="lower left", fontsize=7)
plt.show()

# %% [markdown]
# **What the theorem promises:** *some* width and *some* weights reach any accuracy on the
# interval. **What it does not promise:**
#
# * **how many units** — for hard functions the number can be astronomically large;
# * **that training finds those weights** — it is an existence result; we chose the
#   initialisation (steps spread over the interval) and ran 5000 gradient steps, and
#   the theorem tells you neither;
# * **anything outside the interval** — look at the grey band's edges above: the network
#   has no reason to continue the sine. Checked:

# %%
outside = np.abs(x_plot[:, 0]) > np.pi
x_outside = x_plot[outside]
error_outside = mlp_loss(sine_fits[50], x_outside, np.sin(2 * x_outside))
print(f"50 units: MSE {fit_errors[50]:.4f} inside the interval, {error_outside:.3f} outside")
outside_ratio = error_outside / fit_errors[50]
check_claim("lesson 2: sine MSE outside / inside, 50 units", outside_ratio, at_least=10)

# %% [markdown]
# * **efficiency** — one wide layer *can* do everything, but a deep network can need far
#   fewer units for the same function, because later layers reuse earlier layers'
#   features. The next example shows a function family where it does.
#
# ### Depth pays: a sawtooth
#
# The *tent map* $t(x) = 2x$ for $x < 0.5$ and $2 - 2x$ after folds $[0, 1]$ onto itself.
# With ReLU units it is exact: $t(x) = 2\,\mathrm{relu}(x) - 4\,\mathrm{relu}(x - 0.5)$, a
# layer of **two** units. Apply it $k$ times and you get a sawtooth with $2^{k-1}$ teeth,
# $2^k$ straight pieces. A network with $k$ hidden layers of two ReLU units computes it
# exactly (weights set by hand, as for XOR): each layer folds the previous layer's output
# once more, doubling the pieces for 6 more parameters.
#
# A network with *one* hidden layer of $n$ ReLU units bends its output once per unit, so
# on a line it has at most $n + 1$ straight pieces. To follow $2^k$ pieces it needs about
# $2^k$ units. For $k = 4$:

# %% tags=["nbval-check-output"]
def tent_network(depth):
    """k = depth hidden layers of 2 ReLU units: the tent map applied depth times."""
    fold = dict(W=np.array([[2.0, -4.0], [2.0, -4.0]]), b=np.array([0.0, -0.5]))
    return [
        Layer(W=np.array([[1.0], [1.0]]), b=np.array([0.0, -0.5]), activation="relu"),
        *[Layer(**fold, activation="relu") for _ in range(depth - 1)],
        Layer(W=np.array([[2.0, -4.0]]), b=np.array([0.0]), activation="identity"),
    ]


def sawtooth(x, depth):
    for _ in range(depth):
        x = np.where(x < 0.5, 2 * x, 2 - 2 * x)
    return x


def count_pieces(x, y):
    """Straight pieces of a piecewise-linear curve sampled on a fine grid."""
    slopes = np.diff(y) / np.diff(x)
    return 1 + int(np.sum(np.abs(np.diff(slopes)) > 1e-6))


def parameters(layers):
    return sum(layer.W.size + layer.b.size for layer in layers)


x_saw = np.linspace(0, 1, 1025).reshape(-1, 1)  # the corners j/16 lie on this grid
target_saw = sawtooth(x_saw[:, 0], 4)
deep = tent_network(4)
deep_output = mlp_forward(deep, x_saw).output[:, 0]
print(f"deep: 4 hidden layers of 2 units, {parameters(deep)} parameters, "
      f"{count_pieces(x_saw[:, 0], deep_output)} pieces, "
      f"largest error {np.abs(deep_output - target_saw).max()}")
assert np.array_equal(deep_output, target_saw) and parameters(deep) == 25
assert count_pieces(x_saw[:, 0], target_saw) == 16


# %% [markdown]
# The same 25 parameters as one hidden layer: 8 units ($3 \cdot 8 + 1 = 25$), at most 9
# pieces. However we place their bends, the best output weights are a least-squares
# problem; we try 200 random placements and keep the best fit. With the bends exactly at
# the sawtooth's corners, 16 units (49 parameters) fit it exactly:

# %%
def best_shallow_fit(bends):
    """Smallest MSE of any one-hidden-layer ReLU net whose units bend at ``bends``."""
    x = x_saw[:, 0]
    features = np.c_[np.maximum(0.0, x[:, None] - bends[None, :]), x, np.ones_like(x)]
    weights, *_ = np.linalg.lstsq(features, target_saw, rcond=None)
    return float(np.mean((features @ weights - target_saw) ** 2))


bend_rng = np.random.default_rng(course_seed(0))
shallow_8 = min(best_shallow_fit(bend_rng.uniform(0, 1, 8)) for _ in range(200))
shallow_16 = best_shallow_fit(np.arange(16) / 16)
print(f"one layer,  8 units (25 parameters): best MSE of 200 placements {shallow_8:.3f}")
print(f"one layer, 16 units (49 parameters), bends at the corners: MSE below 1e-12: "
      f"{shallow_16 < 1e-12}")
check_claim(
    "lesson 2: sawtooth, best MSE of one layer with 25 parameters", shallow_8, at_least=0.03
)
assert shallow_16 < 1e-12
print(" k  pieces  deep parameters  one-layer parameters (2^k units)")
for k in range(1, 7):
    print(f"{k:2d}  {2**k:6d}  {parameters(tent_network(k)):15d}  {3 * 2**k + 1:20d}")

# %% [markdown]
# With the same 25 parameters the deep network is exact and the wide one is not even
# close (its error is near that of a flat line at 0.5, $1/12 \approx 0.083$). The deep
# network's cost grows by 6 parameters per doubling of the pieces, the shallow one's
# doubles: depth pays exponentially on this family. What the example does not say is
# that gradient descent *finds* the deep weights from a random start: we set them by
# hand, and training deep narrow networks is harder (lesson 4 meets some reasons).
#
# ## 5. Decision boundaries: width and depth
#
# For classification into several classes, the output layer has one unit per class and
# no activation: its outputs are class scores, called **logits**, and the network
# predicts the class with the largest score. To train it, the **softmax** turns the
# scores into probabilities, $p_k = e^{z_k} / \sum_m e^{z_m}$ (positive, summing to 1,
# in the same order as the scores), and the **cross-entropy** loss $-\log p_y$ is small
# when the true class $y$ gets a high probability. Here `train_mlp` uses that loss as a
# black box; lesson 3 derives it and its gradient. For three scores:

# %% tags=["nbval-check-output"]
scores = np.array([[2.0, 1.0, -1.0]])
probabilities = softmax(scores)
print("logits", scores[0], "-> softmax", np.round(probabilities[0], 3))
print(f"cross-entropy if the true class is 0: {-np.log(probabilities[0, 0]):.3f}, "
      f"if it is 2: {-np.log(probabilities[0, 2]):.3f}")
assert np.isclose(probabilities.sum(), 1) and probabilities.argmax() == scores.argmax()

# %% [markdown]
# We train four architectures on three toy data sets and colour the plane by the
# predicted class. Each picture is one run from one random start; the claims after them
# hold for each of five seeds (lessons/MARGINS.md):
#
# * `[]` — no hidden layer: a linear classifier, like lesson 1's perceptron;
# * `[3]` — one narrow hidden layer; `[16]` — one wider layer; `[16, 16]` — two layers.

# %%
datasets = {
    "moons": make_moons(200, noise=0.15, seed=0),
    "circles": make_circles(200, noise=0.08, seed=0),
    "spirals": make_spirals(300, classes=3, seed=0),
}
architectures = [[], [3], [16], [16, 16]]


def train_classifier(X, y, hidden_sizes):
    n_classes = int(y.max()) + 1
    layers = init_mlp(
        [2, *hidden_sizes, n_classes],
        hidden_activation="tanh",
        rng=np.random.default_rng(course_seed(0)),
    )
    train_mlp(layers, X, y, loss="cross_entropy", lr=0.5, epochs=2000)
    return layers


classifiers = {
    (name, tuple(hidden)): train_classifier(X, y, hidden)
    for name, (X, y) in datasets.items()
    for hidden in architectures
}
accuracy = {
    key: float(np.mean(predict_classes(layers, datasets[key[0]][0]) == datasets[key[0]][1]))
    for key, layers in classifiers.items()
}
print("training accuracy   " + "".join(f"{str(list(h)):>10s}" for h in architectures))
for name in datasets:
    print(f"{name:18s}  " + "".join(f"{accuracy[name, tuple(h)]:10.0%}" for h in architectures))

# %%
figure, axes_grid = plt.subplots(3, 4, figsize=(14, 9.5))
for row, (name, (X, y)) in zip(axes_grid, datasets.items(), strict=True):
    for axes, hidden in zip(row, architectures, strict=True):
        layers = classifiers[name, tuple(hidden)]
        plot_decision_regions(
            axes,
            lambda grid, layers=layers: predict_classes(layers, grid),
            X,
            y,
            limits=(-1.6, 2.6, -1.4, 1.6),
            point_size=8,
            title=f"{name}, hidden {hidden}: {accuracy[name, tuple(hidden)]:.0%}",
        )
plt.tight_layout()
plt.show()

# %% [markdown]
# What the pictures show, checked below:
#
# * without a hidden layer the boundary is a straight line; for three classes, each
#   class's region is where its score beats the other two, an intersection of two
#   half-planes: a convex wedge bounded by straight lines. Hopeless for circles and
#   spirals;
# * one hidden layer bends the boundary; a few units already handle moons and circles;
# * the spirals need many bends: the narrow network fails, the wider and the deeper
#   networks wind around the arms. At this size the two reach about the same accuracy:
#   depth's advantage is in how few parameters a function can need (the sawtooth), not
#   a win on every small problem.

# %%
check_claim("lesson 2: linear classifier on circles", accuracy["circles", ()], at_most=0.7)
check_claim("lesson 2: linear classifier on spirals", accuracy["spirals", ()], at_most=0.6)
check_claim("lesson 2: [3] on moons", accuracy["moons", (3,)], at_least=0.95)
check_claim("lesson 2: [3] on circles", accuracy["circles", (3,)], at_least=0.95)
check_claim("lesson 2: [3] on spirals", accuracy["spirals", (3,)], at_most=0.9)
check_claim("lesson 2: [16] on spirals", accuracy["spirals", (16,)], at_least=0.9)
check_claim("lesson 2: [16, 16] on spirals", accuracy["spirals", (16, 16)], at_least=0.97)
# The linear classifier's three regions are convex: the segment between two points of a
# region stays in it.
linear_spirals = classifiers["spirals", ()]
plane = np.random.default_rng(0).uniform(-1.6, 1.6, size=(2000, 2))
plane_classes = predict_classes(linear_spirals, plane)
first, second = plane[:1000], plane[1000:]
same = plane_classes[:1000] == plane_classes[1000:]
for fraction in (0.25, 0.5, 0.75):
    between = predict_classes(linear_spirals, (1 - fraction) * first + fraction * second)
    assert np.array_equal(between[same], plane_classes[:1000][same])

# %% [markdown]
# These are *training* accuracies: a network that winds around every point may not do as
# well on new points. Later lessons measure that gap with separate test data.
#
# ## Common mistakes
#
# * **Transposed weights.** `W` has shape `(n_out, n_in)`; writing `W @ x` with `W` as
#   `(n_in, n_out)` either fails or, for square layers, silently computes the wrong thing.
#   Print shapes; `mlp_forward` checks them for you. Lesson 4's layers and PyTorch's
#   `nn.Linear` keep this convention.
# * **Forgetting the activation.** Linear layers stacked are one linear layer (section 2).
# * **Mixing up rows and columns of a batch.** One example per row: `Z = X @ W.T + b`.
# * **Step activations in a trained network.** The step's derivative is zero, so gradient
#   descent cannot move its weights; use sigmoid, tanh or ReLU.
# * **All weights equal at the start** (for example all zero): every hidden unit computes
#   the same thing and receives the same gradient, so they stay identical forever. Random
#   initialisation breaks the symmetry. Checked:

# %%
symmetric = init_mlp([2, 4, 1], hidden_activation="tanh", output_activation="sigmoid")
for layer in symmetric:
    layer.W[:] = 0.1  # every unit starts the same
train_mlp(symmetric, X_xor, y_xor.reshape(-1, 1), lr=2.0, epochs=500)
assert np.allclose(symmetric[0].W, symmetric[0].W[0])  # still four copies of one unit
print("hidden weights after training from equal values:\n", np.round(symmetric[0].W, 3))

# %% [markdown]
# ## 6. The network playground: features, width, depth, activations
#
# Time to play. The **network playground** is TensorFlow Playground inside the notebook,
# and the network it trains is the one you will build yourself in lesson 4
# (`widgets.numpy_nn`). Press ▶ to train and ⏸ to pause; *Step* trains one epoch. Each
# small tile shows what one input feature or hidden unit computes over the plane (orange
# negative, blue positive); edges are blue for positive weights, orange for negative ones,
# and thicker for larger ones. On the right, the network's output with the training points
# (white rim) and the test points (black rim); below, the training (grey) and test (black)
# loss. **Show me the code** prints the current configuration as a NumPy script and as the
# equivalent PyTorch script.
#
# Things to try: remove x₁ and x₂ and add x₁², x₂²; take the hidden layers away; switch
# the activation to *linear*; make the first layer one unit wide; pick the spiral.

# %%
from widgets.playground import NetworkPlayground
from widgets.playground_model import PlaygroundModel

playground = NetworkPlayground(dataset="circle", hidden=(4, 2), seed=course_seed(0))
playground

# %% [markdown]
# Every control is also a method of `playground.model` (`add_layer()`, `set(...)`,
# `run(epochs=...)`, ...), so what the playground shows can be checked in code. Each claim
# below trains a fresh model on the same 500 points, half of them kept for testing: one
# run each, whose claims hold for each of five seeds (lessons/MARGINS.md).
#
# **Features.** No straight line separates the circle's inside from its ring in
# $(x_1, x_2)$. In $(x_1^2, x_2^2)$ the inside is the half-plane $x_1^2 + x_2^2 < r^2$,
# so a single unit, with no hidden layer at all, separates it.


# %%
def trained(epochs, **settings):
    model = PlaygroundModel(seed=course_seed(0), **settings)
    model.run(epochs=epochs)
    return model


squares = trained(30, features=("x1^2", "x2^2"), hidden=(), lr=0.1)
plain = trained(30, features=("x1", "x2"), hidden=(), lr=0.1)
print(
    f"one unit, no hidden layer: test accuracy {squares.test_accuracy:.0%} on x1², x2², "
    f"{plain.test_accuracy:.0%} on x1, x2"
)
check_claim(
    "lesson 2: playground circle, one unit on x1², x2², test accuracy",
    squares.test_accuracy,
    at_least=0.95,
)
check_claim(
    "lesson 2: playground circle, one unit on x1, x2, test accuracy",
    plain.test_accuracy,
    at_most=0.75,
)
NetworkPlayground(squares)

# %% [markdown]
# **Width.** On XOR data (points in four quadrants), one hidden unit draws one line, which
# is not enough; four units in the same single layer solve it. **Depth does not make up for
# a narrow layer**: with a first layer of one unit, everything after it sees a single number
# $w \cdot x + b$, so the boundary can only be straight lines parallel to each other,
# however many layers follow; give the first layer 8 units and the same depth succeeds.
# **Activations**: with *linear* units, two hidden layers of 8 still compute one linear
# function (section 2), and fail on the circle; with ReLU they succeed.

# %%
results = {
    "XOR, 1 hidden unit": trained(60, dataset="xor", hidden=(1,)),
    "XOR, 4 hidden units": trained(60, dataset="xor", hidden=(4,)),
    "circle, layers (1, 8)": trained(60, hidden=(1, 8)),
    "circle, layers (8, 8)": trained(60, hidden=(8, 8)),
    "circle, (8, 8) linear": trained(60, hidden=(8, 8), activation="linear"),
    "circle, (8, 8) ReLU": trained(60, hidden=(8, 8), activation="relu"),
}
accuracy = {name: model.test_accuracy for name, model in results.items()}
check_claim(
    "lesson 2: playground XOR, 1 hidden unit, test accuracy",
    accuracy["XOR, 1 hidden unit"],
    at_most=0.8,
)
check_claim(
    "lesson 2: playground XOR, 4 hidden units, test accuracy",
    accuracy["XOR, 4 hidden units"],
    at_least=0.88,
)
check_claim(
    "lesson 2: playground circle, layers (1, 8), test accuracy",
    accuracy["circle, layers (1, 8)"],
    at_most=0.9,
)
check_claim(
    "lesson 2: playground circle, layers (8, 8), test accuracy",
    accuracy["circle, layers (8, 8)"],
    at_least=0.95,
)
check_claim(
    "lesson 2: playground circle, linear (8, 8), test accuracy",
    accuracy["circle, (8, 8) linear"],
    at_most=0.7,
)
check_claim(
    "lesson 2: playground circle, ReLU (8, 8), test accuracy",
    accuracy["circle, (8, 8) ReLU"],
    at_least=0.95,
)
for name, value in accuracy.items():
    print(f"{name:22s} test accuracy {value:.0%}")

# %% [markdown]
# ## Check your understanding
#
# 1. A layer maps 784 inputs to 128 units. What are the shapes of $W$ and $b$, and how many
#    parameters does it have?
# 2. For a batch $X$ of shape $(64, 784)$, what is the shape of $Z = XW^\top + b$?
# 3. Why can no number of *linear* layers solve XOR?
# 4. The universal approximation theorem says one hidden layer is enough. Why do we build
#    deep networks anyway?
#
# <details><summary>Answers</summary>
#
# 1. $W$: $(128, 784)$, $b$: $(128,)$; $128 \cdot 784 + 128 = 100\,480$ parameters.
# 2. $(64, 128)$: one row per example, one column per unit.
# 3. They collapse into one linear map, whose decision boundary is a single straight line,
#    and no line separates XOR's classes.
# 4. "Enough" units may be impractically many, the theorem says nothing about finding the
#    weights or about generalising, and depth reuses features, so a deep network can need
#    far fewer parameters for the same function (the sawtooth: 25 parameters deep, 49 in
#    one layer for $k = 4$, and the gap doubles with every $k$).
#
# </details>
#
# Each answer, checked in code:

# %% tags=["nbval-check-output"]
(layer_784,) = init_mlp([784, 128], rng=np.random.default_rng(0))  # answer 1
assert layer_784.W.shape == (128, 784) and layer_784.b.shape == (128,)
assert layer_784.W.size + layer_784.b.size == 100_480
batch_output = mlp_forward([layer_784], np.zeros((64, 784))).output  # answer 2
assert batch_output.shape == (64, 128)
linear_xor = init_mlp(  # answer 3: linear hidden layers, trained, still miss a point
    [2, 8, 8, 1], hidden_activation="identity", output_activation="sigmoid",
    rng=np.random.default_rng(0),
)
train_mlp(linear_xor, X_xor, y_xor.reshape(-1, 1), lr=2.0, epochs=2000)
assert np.sum(predict_classes(linear_xor, X_xor) == y_xor) <= 3
assert parameters(tent_network(4)) == 25 < 3 * 16 + 1 == 49  # answer 4: the sawtooth
assert count_pieces(x_saw[:, 0], mlp_forward(tent_network(5), x_saw).output[:, 0]) == 32
print("answers 1 to 4 check out")

# %% [markdown]
# ## Summary
#
# * A layer computes $z = Wx + b$, $a = \sigma(z)$ with $W$ of shape
#   $(n_\text{out}, n_\text{in})$; for a batch (one example per row) $Z = XW^\top + b$.
# * Hidden layers *re-represent* the data; two layers solve XOR by mapping its points to a
#   space where one line separates them.
# * Without nonlinear activations, depth is useless: linear layers collapse into one.
# * One hidden layer can approximate any continuous function on a bounded region, but the
#   theorem says nothing about how many units, how to find them, or what happens outside.
# * Width and depth let networks draw more complex decision boundaries; for some
#   functions (the sawtooth) depth needs exponentially fewer parameters than width.
#
# **Practice:** the exercise
# [02-forward-and-backward-by-hand](exercises/02-forward-and-backward-by-hand.ipynb):
# compute a forward pass and its gradients with pen, paper and NumPy.
#
# **Next:** [03-backpropagation.ipynb](03-backpropagation.ipynb) opens the black box
# `train_mlp`: how the gradients of every weight are computed.
