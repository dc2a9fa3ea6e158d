# %% [markdown]
# # 1 · The perceptron (45 min)
#
# The perceptron (Rosenblatt, 1958) is the simplest neural network: one artificial
# neuron that weighs its inputs, adds them up and fires when the sum is large enough.
# Every network in this course is built from units like it.
#
# **By the end of this lesson you can**
#
# 1. compute a perceptron's output $\hat y = \mathrm{step}(w \cdot x + b)$ by hand and say
#    what $w$ and $b$ mean geometrically;
# 2. apply Rosenblatt's learning rule $\Delta w = \eta\,(y - \hat y)\,x$ step by step, and
#    say when it is guaranteed to converge;
# 3. compare the step, sigmoid, tanh and ReLU activations and explain why gradient-based
#    learning needs activations with a useful derivative (smooth ones, or ReLU, whose
#    single kink does no harm);
# 4. explain, and prove, why no single perceptron can compute XOR.
#
# **Plan:** play (5 min) · neuron → perceptron (5) · geometry (5) · learning rule (10) ·
# activations (8) · XOR (7) · mistakes, questions and summary (5).

# %%
import matplotlib.pyplot as plt
import numpy as np

from widgets.activations import ACTIVATIONS, sigmoid_derivative, step
from widgets.claims import check_claim, course_seed
from widgets.notebook import seed_everything, show_source
from widgets.perceptron import Perceptron, perceptron_update
from widgets.perceptron_plot import PerceptronPlot
from widgets.perceptron_widget import PerceptronPlayground
from widgets.toy_data import make_blobs, make_gate, make_moons

rng = seed_everything(0)

# %% [markdown]
# ## 1. Play first (5 min)
#
# Below is one neuron with two inputs $x_1, x_2$, two weights $w_1, w_2$ and a bias $b$.
# The four points are the inputs of the logic gate **AND**: orange squares should come
# out as 1, blue dots as 0. The shaded regions show what the neuron answers everywhere
# in the plane; the black line between them is its *decision boundary*.
#
# Try, before reading on:
#
# 1. Move the sliders until only the top-right point lies in the orange region.
#    (One answer: $w_1 = w_2 = 1$, $b = -1.5$.) What does the arrow $w$ do when you move
#    $w_1$? And the line, when you move $b$?
# 2. Press **Reset**, set all three sliders to 0, then press **Step** a few times. Each
#    step shows one point to the learning rule; the status line prints the arithmetic.
# 3. Press **Epoch** until the status says *converged*.
# 4. Choose **XOR** in the `data` menu, press ▶ and watch. What does the status say?

# %%
playground = PerceptronPlayground("AND")
playground

# %% [markdown]
# Everything the playground does is also a method of its model, so we can check the
# answer to question 1 in code: those weights classify all four points correctly.

# %% tags=["nbval-check-output"]
and_model = Perceptron(*make_gate("AND"))
and_model.set_weights(1, 1, -1.5)
print("predictions:", and_model.predict(), " targets:", and_model.y)
assert and_model.errors() == 0 and and_model.status.state == "converged"

# %% [markdown]
# ## 2. From a neuron to a perceptron (5 min)
#
# A biological neuron collects signals from other neurons on its **dendrites**. Each
# connection, a **synapse**, amplifies or damps its signal. The cell body (**soma**)
# integrates what arrives; when the total exceeds a threshold, the neuron **fires** an
# all-or-nothing spike down its **axon** to the next neurons.
#
# The perceptron keeps exactly that much of the story (and real neurons do far more):
# inputs $x_i$ for the incoming signals, weights $w_i$ for the synapses' strengths, a
# sum, and a threshold that the bias $b$ sets.

# %%
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch


def draw_neuron(ax):
    """A stylised biological neuron: dendrites, soma, axon with myelin, terminals."""
    ax.add_patch(Ellipse((2.2, 2.0), 1.5, 1.2, color="#f4b6c2", zorder=2))
    ax.add_patch(Circle((2.2, 2.0), 0.22, color="#b5495b", zorder=3))
    for angle in (110, 150, 190, 230, 265):  # dendrites branch off the soma's left side
        direction = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
        start, end = np.array([2.2, 2.0]) + 0.6 * direction, np.array([2.2, 2.0]) + 1.6 * direction
        ax.plot(*np.c_[start, end], color="#b5495b", lw=3, zorder=1)
        for turn in (-30, 30):  # each dendrite forks once
            branch_angle = np.radians(angle + turn)
            tip = end + 0.5 * np.array([np.cos(branch_angle), np.sin(branch_angle)])
            ax.plot(*np.c_[end, tip], color="#b5495b", lw=2)
    ax.plot([2.95, 7.4], [2.0, 2.0], color="#b5495b", lw=3)  # the axon
    for left in np.arange(3.3, 7.0, 0.9):  # myelin sheath segments
        ax.add_patch(FancyBboxPatch((left, 1.82), 0.65, 0.36, boxstyle="round,pad=0.02",
                                    color="#f6d186", zorder=2))
    for dy in (-0.6, 0.0, 0.6):  # axon terminals
        ax.plot([7.4, 8.1], [2.0, 2.0 + dy], color="#b5495b", lw=2)
        ax.add_patch(Circle((8.15, 2.0 + dy), 0.1, color="#b5495b"))
    labels = {  # text: (where it points, where the text sits)
        "dendrites\n(inputs)": ((0.9, 2.9), (0.2, 3.9)),
        "soma: sums\nthe signals": ((2.4, 2.4), (2.6, 3.7)),
        "nucleus": ((2.2, 1.9), (2.6, 0.4)),
        "axon (output)": ((5.0, 2.2), (4.5, 3.3)),
        "synapses to the\nnext neurons": ((8.15, 2.6), (7.2, 3.7)),
    }
    for text, (point, place) in labels.items():
        ax.annotate(text, point, place, fontsize=9, ha="left",
                    arrowprops=dict(arrowstyle="->", color="grey"))
    ax.set(xlim=(-0.2, 9), ylim=(0, 4.4), title="a biological neuron (stylised)")
    ax.axis("off")


def draw_perceptron(ax):
    """The perceptron as a diagram: inputs, weights, sum, step, output."""
    inputs = {"$x_1$": 3.3, "$x_2$": 2.0, "$1$": 0.7}
    weights = {"$x_1$": "$w_1$", "$x_2$": "$w_2$", "$1$": "$b$"}
    for name, height in inputs.items():
        ax.add_patch(Circle((0.6, height), 0.35, color="#cfe2f3", zorder=2))
        ax.text(0.6, height, name, ha="center", va="center", fontsize=12, zorder=3)
        ax.add_patch(FancyArrowPatch((0.95, height), (3.3, 2.0), arrowstyle="->",
                                     mutation_scale=14, color="grey"))
        ax.text(2.0, (height + 2.0) / 2 + 0.25, weights[name], fontsize=12, color="#b5495b")
    ax.add_patch(Circle((3.8, 2.0), 0.5, color="#f4b6c2", zorder=2))
    ax.text(3.8, 2.0, r"$\Sigma$", ha="center", va="center", fontsize=16, zorder=3)
    ax.text(3.8, 1.05, "$z = w \\cdot x + b$", ha="center", fontsize=10)
    ax.add_patch(FancyArrowPatch((4.3, 2.0), (5.4, 2.0), arrowstyle="->", mutation_scale=14))
    ax.add_patch(FancyBboxPatch((5.4, 1.55), 1.4, 0.9, boxstyle="round,pad=0.05",
                                color="#f6d186"))
    ax.plot([5.6, 6.1, 6.1, 6.6], [1.75, 1.75, 2.25, 2.25], color="black", lw=2)
    ax.text(6.1, 1.05, "step", ha="center", fontsize=10)
    ax.add_patch(FancyArrowPatch((6.85, 2.0), (7.9, 2.0), arrowstyle="->", mutation_scale=14))
    ax.text(8.05, 2.0, r"$\hat y \in \{0, 1\}$", va="center", fontsize=12)
    ax.set(xlim=(0, 9.6), ylim=(0, 4.4), title="a perceptron")
    ax.axis("off")


fig, (ax_neuron, ax_perceptron) = plt.subplots(1, 2, figsize=(12, 3.6))
draw_neuron(ax_neuron)
draw_perceptron(ax_perceptron)
plt.show()

# %% [markdown]
# In symbols, with inputs $x = (x_1, x_2)$:
#
# $$z = w \cdot x + b = w_1 x_1 + w_2 x_2 + b, \qquad
#   \hat y = \mathrm{step}(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}$$
#
# $z$ is the *pre-activation*, $\hat y$ the prediction. Note the convention
# $\mathrm{step}(0) = 1$: a point exactly on the boundary counts as class 1. The bias is
# the negative of the threshold: the neuron fires when $w \cdot x \ge -b$.
#
# By hand, for AND with $w = (1, 1)$, $b = -1.5$:

# %% tags=["live", "nbval-check-output"]
weights, bias = np.array([1.0, 1.0]), -1.5
X_and, y_and = make_gate("AND")
print(" x1 x2 |    z  | ŷ | y")
for x, target in zip(X_and, y_and, strict=True):
    z = weights @ x + bias
    print(f" {x[0]:2.0f} {x[1]:2.0f} | {z:5.1f} | {step(z):.0f} | {target}")
assert np.array_equal(step(X_and @ weights + bias), y_and)

# %% [markdown]
# ## 3. What $w$ and $b$ mean (5 min)
#
# The boundary is the set of points where $z = 0$: the line $w_1 x_1 + w_2 x_2 + b = 0$.
#
# - **$w$ is perpendicular to the boundary and points towards class 1.** Moving along
#   the line by a direction $d$ keeps $z = 0$, so $w \cdot d = 0$; stepping from the line
#   along $w$ increases $z$.
# - **$b$ shifts the line** without turning it: its distance from the origin is
#   $|b| / \lVert w \rVert$. More generally $z / \lVert w \rVert$ is the *signed distance*
#   of a point to the line.
# - **Only the direction of $(w, b)$ matters** for the classes: multiplying $w$ and $b$
#   by any $c > 0$ multiplies every $z$ by $c$, which keeps its sign.

# %% tags=["nbval-check-output"]
w, b = np.array([1.0, 2.0]), -1.5
along_boundary = np.array([-w[1], w[0]])  # perpendicular to w
point_on_boundary = -b * w / (w @ w)  # the boundary point nearest the origin
print(f"w · d = {w @ along_boundary}")
print(f"z at the nearest boundary point = {point_on_boundary @ w + b}")
print(f"distance of the line from the origin = |b| / ||w|| = {abs(b) / np.linalg.norm(w):.4f}")
assert w @ along_boundary == 0
assert abs(point_on_boundary @ w + b) < 1e-12
assert np.isclose(np.linalg.norm(point_on_boundary), abs(b) / np.linalg.norm(w))
X_grid = rng.uniform(-3, 3, size=(1000, 2))  # many random points: scaling changes no class
assert np.array_equal(step(X_grid @ w + b), step(X_grid @ (3 * w) + 3 * b))

# %% [markdown]
# The playground's picture is available to code too (`PerceptronPlot`). Here are two
# settings side by side: the second has $w$ and $b$ three times larger, and the same
# boundary. Only the shading would differ with a smooth activation (section 5).

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
for ax, (w1, w2, bias, title) in zip(axes, [
    (1, 2, -1.5, "w = (1, 2), b = −1.5"),
    (3, 6, -4.5, "3× larger: same line"),
    (1, 2, -0.5, "b = −0.5: shifted, not turned"),
], strict=True):
    model = Perceptron(*make_gate("AND"), weights=(w1, w2), bias=bias)
    PerceptronPlot(ax, legend=ax is axes[0]).update(model)
    ax.set_title(title)
plt.show()

# %% [markdown]
# ## 4. Learning the weights: Rosenblatt's rule (10 min)
#
# Rather than moving sliders, the perceptron *learns* its weights from examples. It
# visits the samples one at a time, in a fixed order; a full pass is an **epoch**.
# For a sample $x$ with target $y$ and prediction $\hat y$:
#
# $$\Delta w = \eta\,(y - \hat y)\,x, \qquad \Delta b = \eta\,(y - \hat y)$$
#
# with a learning rate $\eta > 0$. The error $y - \hat y$ is 0 when the prediction is
# right (nothing changes), $+1$ when the neuron should have fired but did not, and $-1$
# when it fired but should not have. Why this helps: after an update on $x$, the same
# $x$ gets a new pre-activation
#
# $$z' = (w + \Delta w) \cdot x + b + \Delta b = z + \eta\,(y - \hat y)\,(\lVert x \rVert^2 + 1),$$
#
# which moves in the right direction by $\eta(\lVert x \rVert^2 + 1)$. Here is the
# package's implementation, the one the playground, the tests and exercise 1 use:

# %% tags=["nbval-check-output"]
show_source(perceptron_update)

# %% [markdown]
# Line by line: the prediction is the step of $z$ (with `step(0) = 1`); `error` is
# $y - \hat y$; the returned pair adds $\eta \cdot \mathrm{error} \cdot x$ to the weights
# and $\eta \cdot \mathrm{error}$ to the bias. New arrays are returned, so the caller's
# weights are untouched. Let us check the claim about $z'$ on one mistake:

# %% tags=["live", "nbval-check-output"]
x, target, eta = np.array([2.0, -1.0]), 1, 0.5
w, b = np.array([-1.0, 1.0]), 0.5
z_before = w @ x + b  # -2.5: predicted 0, should be 1
w_new, b_new = perceptron_update(w, b, x, target, eta)
z_after = w_new @ x + b_new
print(f"z before = {z_before}, z after = {z_after}, moved by {z_after - z_before}")
assert z_after - z_before == eta * (target - step(z_before)) * (x @ x + 1)

# %% [markdown]
# ### One epoch by hand
#
# Start from $w = (0, 0)$, $b = 0$ with $\eta = 1$ on AND and apply the rule to each
# sample in turn. This cell does it from scratch, each number written out, and checks
# every row against `perceptron_update`. Follow along on paper for the first two rows:
# with zero weights, $z = 0$, so $\hat y = 1$, wrong for $(0, 0)$.

# %% tags=["nbval-check-output"]
w, b, eta = np.zeros(2), 0.0, 1.0
print("sample  x       y |   z   ŷ | Δw          Δb  | new w        new b")
for index, (x, target) in enumerate(zip(X_and, y_and, strict=True), start=1):
    z = w[0] * x[0] + w[1] * x[1] + b
    prediction = 1 if z >= 0 else 0
    delta_w = eta * (target - prediction) * x + 0.0  # + 0.0 turns -0.0 into 0.0
    delta_b = eta * (target - prediction)
    expected = perceptron_update(w, b, x, target, eta)
    w, b = w + delta_w, b + delta_b
    assert np.array_equal(w, expected[0]) and b == expected[1]
    print(f"  {index}   ({x[0]:.0f}, {x[1]:.0f})  {target} | {z:4.1f}  {prediction} | "
          f"({delta_w[0]:+.0f}, {delta_w[1]:+.0f})  {delta_b:+.0f}  | "
          f"({w[0]:+.0f}, {w[1]:+.0f})     {b:+.0f}")

# %% [markdown]
# The model does the same bookkeeping: `step()` is one row of that table, `epoch()` a
# full pass, `train()` epochs until it converges. Its first epoch agrees:

# %% tags=["nbval-check-output"]
and_model = Perceptron(X_and, y_and)
and_model.epoch()
assert and_model.parameters() == (w[0], w[1], b)
status = and_model.train()
print(status.message)
print("mistakes per epoch:", and_model.mistakes_per_epoch)
print("final weights (w1, w2, b):", and_model.parameters())
assert status.state == "converged" and status.epochs == 5

# %% [markdown]
# ### Convergence on separable data
#
# **Perceptron convergence theorem** (Novikoff, 1962). Suppose some line separates the
# classes with a margin: a unit vector $u$ (over the weights *and* the bias) such that
# every sample lies at least $\gamma > 0$ from the boundary on its correct side, and
# every input with a 1 appended for the bias has length at most $R$. Then, started from
# zero, the rule makes **at most $(R/\gamma)^2$ mistakes** in total, whatever the order:
# it must converge.
#
# Our two blobs are built to be separable by a line with margin at least $0.25$: before
# we shift them away from the origin (so the bias has to be learned too), that line is
# $x_1 + x_2 = 0$; after the shift by $(2, 2)$ it is $x_1 + x_2 - 4 = 0$, so the theorem
# applies with $u = (1, 1, -4)/\sqrt{18}$. We also shuffle the samples once: sorted by
# class, they would be too easy.
#
# **Two margins.** The $0.25$ is a distance *in the plane*: every point lies at least
# $0.25$ from the line. The theorem's $\gamma$ is measured with the unit vector $u$ over
# $(w, b)$ and the inputs with a 1 appended, $\gamma = \min_i \pm\, u \cdot (x_i, 1)$.
# For $u = (w, b)/\lVert (w, b) \rVert$ that is the plane distance times
# $\lVert w \rVert / \lVert (w, b) \rVert = \sqrt 2/\sqrt{18} = 1/3$: so expect
# $\gamma \approx 0.085$, a third of the plane margin of about $0.25$ (checked below).

# %% tags=["live", "nbval-check-output"]
X_blobs, y_blobs = make_blobs(100, separation=2.0, seed=0)
X_blobs = X_blobs + 2.0
order = np.random.default_rng(0).permutation(len(X_blobs))
X_blobs, y_blobs = X_blobs[order], y_blobs[order]

blob_model = Perceptron(X_blobs, y_blobs)
snapshots = {0: blob_model.parameters()}  # weights after each epoch, for the figure
while blob_model.status.state == "training":
    blob_model.epoch()
    snapshots[blob_model.epochs] = blob_model.parameters()
print(blob_model.status.message)
print("mistakes per epoch:", blob_model.mistakes_per_epoch)

augmented = np.c_[X_blobs, np.ones(len(X_blobs))]
u = np.array([1.0, 1.0, -4.0]) / np.sqrt(18)
margin = np.min((2 * y_blobs - 1) * (augmented @ u))
radius = np.linalg.norm(augmented, axis=1).max()
mistakes = sum(blob_model.mistakes_per_epoch)
print(f"margin γ = {margin:.3f}, radius R = {radius:.2f}")
print(f"mistakes made: {mistakes}  ≤  bound (R/γ)² = {(radius / margin) ** 2:.0f}")
assert margin > 0 and mistakes <= (radius / margin) ** 2
assert blob_model.status.state == "converged" and blob_model.epochs >= 3
plane_margin = np.min((2 * y_blobs - 1) * (X_blobs @ [1.0, 1.0] - 4.0) / np.sqrt(2))
print(f"distance in the plane: {plane_margin:.3f} ≥ 0.25;  γ = that × 1/3 = {plane_margin / 3:.3f}")
assert plane_margin >= 0.25 and np.isclose(margin, plane_margin / 3)

# %% [markdown]
# The bound is a worst case, far above what happens here; what matters is that it is
# finite. It grows as the margin shrinks, like $1/\gamma^2$. Does the actual number of
# mistakes grow too? Bring the blobs closer (separation 1 instead of 2) and let
# `make_blobs` keep points at least 0.5, 0.2 or 0.05 from the line; for each, train on
# five shuffled orders and count every mistake until convergence:

# %%
margin_runs = {}
for plane_gap in (0.5, 0.2, 0.05):
    X_close, y_close = make_blobs(100, separation=1.0, margin=plane_gap, seed=0)
    X_close = X_close + 2.0
    augmented_close = np.c_[X_close, np.ones(len(X_close))]
    gamma = np.min((2 * y_close - 1) * (augmented_close @ u))
    bound = (np.linalg.norm(augmented_close, axis=1).max() / gamma) ** 2
    counts = []
    for order_seed in range(5):
        order = np.random.default_rng(course_seed(order_seed)).permutation(len(X_close))
        close_model = Perceptron(X_close[order], y_close[order], max_epochs=5000)
        assert close_model.train().state == "converged"
        counts.append(sum(close_model.mistakes_per_epoch))
        assert counts[-1] <= bound  # the theorem, on every run
    margin_runs[plane_gap] = counts
    print(f"plane margin ≥ {plane_gap:4}: γ = {gamma:.4f}, bound {bound:8.0f}, "
          f"mistakes in 5 orders: {counts}")
growth = np.median(margin_runs[0.05]) / np.median(margin_runs[0.5])
check_claim("lesson 1: median mistakes, margin 0.05 over margin 0.5", growth, at_least=2)

# %% [markdown]
# The mistakes grow as the margin shrinks (the median over five orders, at least
# twofold from 0.5 to 0.05), though far more slowly than the bound: classes that almost
# touch take longer, and the bound only promises that they finish.
#
# %% [markdown]
# Left: the final boundary, and dashed the ones after earlier epochs (fainter =
# earlier). Right: mistakes per epoch; the epoch after the last one shown would have
# none, because the final weights classify every sample correctly.

# %%
fig, (ax_plane, ax_errors) = plt.subplots(1, 2, figsize=(11, 4))
PerceptronPlot(ax_plane).update(blob_model)
xs = np.array(ax_plane.get_xlim())
for epoch, (w1, w2, bias) in list(snapshots.items())[1:-1]:
    if w2 != 0:  # a vertical line would need x as a function of y; none occurs here
        alpha = 0.3 + 0.6 * epoch / len(snapshots)
        ax_plane.plot(xs, -(w1 * xs + bias) / w2, "--", color="grey", alpha=alpha)
ax_plane.set_title("the boundary, epoch by epoch")
ax_errors.bar(range(1, blob_model.epochs + 1), blob_model.mistakes_per_epoch, color="C3")
ax_errors.set(xlabel="epoch", ylabel="mistakes (updates)", title="mistakes per epoch")
plt.show()

# %% [markdown]
# ## 5. Activation functions (8 min)
#
# The step is one choice of *activation function* $f$ in $\hat y = f(z)$. Networks
# trained by gradient descent (from lesson 2 on) need a derivative that carries signal:
# smooth ones like the sigmoid and tanh, or ReLU, which is smooth everywhere except at
# $z = 0$ (a single point, where one simply uses 0 or 1 as its slope):
#
# | name | $f(z)$ | $f'(z)$ | range |
# |---|---|---|---|
# | step | $1$ if $z \ge 0$ else $0$ | $0$ (undefined at 0) | $\{0, 1\}$ |
# | sigmoid | $\sigma(z) = 1/(1 + e^{-z})$ | $\sigma(z)(1 - \sigma(z))$ | $(0, 1)$ |
# | tanh | $\tanh z$ | $1 - \tanh^2 z$ | $(-1, 1)$ |
# | ReLU | $\max(0, z)$ | $1$ if $z > 0$ else $0$ | $[0, \infty)$ |

# %%
z = np.linspace(-6, 6, 601)
fig, axes = plt.subplots(2, 4, figsize=(13, 5), sharex=True, layout="constrained")
for column, (name, (function, derivative)) in enumerate(ACTIVATIONS.items()):
    axes[0, column].plot(z, function(z), color="C0", lw=2)
    axes[0, column].set_title(name)
    axes[1, column].plot(z, derivative(z), color="C3", lw=2)
    axes[1, column].set_xlabel("z")
    for row in (0, 1):
        axes[row, column].axhline(0, color="grey", lw=0.6)
        axes[row, column].axvline(0, color="grey", lw=0.6)
axes[0, 0].set_ylabel("f(z)")
axes[1, 0].set_ylabel("f′(z)")
plt.show()

# %% [markdown]
# What to see in the plots, checked numerically below:
#
# - **The step's derivative is zero** wherever it exists. Gradient descent changes a
#   weight in proportion to how the loss changes with it, which goes through $f'(z)$:
#   with a step, that is always 0, so gradients carry no signal. Rosenblatt's rule
#   sidesteps that with its own update, but it only works for a single layer.
# - **Sigmoid and tanh saturate**: for large $|z|$ they are flat, so their derivative
#   almost vanishes ($\sigma'$ is at most $0.25$, at $z = 0$). Deep stacks of them learn
#   slowly: the *vanishing gradient*.
# - **ReLU** does not saturate for $z > 0$ (derivative 1), is cheap, and is the default
#   in modern networks; for $z < 0$ its derivative is 0 (a unit stuck there is "dead").
# - The derivatives in the table are right: they match finite differences.

# %% tags=["nbval-check-output"]
assert np.all(ACTIVATIONS["step"][1](z) == 0)
assert sigmoid_derivative(0.0) == 0.25 and sigmoid_derivative(z).max() == 0.25
assert sigmoid_derivative(6.0) < 0.0025 and ACTIVATIONS["tanh"][1](3.0) < 0.01
assert ACTIVATIONS["relu"][1](5.0) == 1 and ACTIVATIONS["relu"][1](-5.0) == 0
smooth = z[np.abs(z) > 0.01]  # away from the kinks of step and ReLU
for name, (function, derivative) in ACTIVATIONS.items():
    h = 1e-6
    numeric = (function(smooth + h) - function(smooth - h)) / (2 * h)
    assert np.allclose(numeric, derivative(smooth), atol=1e-5), name
print("all derivative claims hold")

# %% [markdown]
# In the playground, the `activation` menu changes the neuron's *output* $f(z)$, drawn
# as the shading: a step is all-or-nothing, a sigmoid fades towards the boundary, a
# ReLU outputs nothing on one side. The class, and the learning rule, stay the
# perceptron's: $\hat y = \mathrm{step}(z)$.

# %% [markdown]
# ## 6. Linear separability, and XOR (7 min)
#
# A perceptron's boundary is a straight line, so it can only solve problems whose
# classes a straight line separates: **linearly separable** ones. AND, OR and NAND are;
# XOR (1 when exactly one input is 1) is not. The rule converges on the first three and
# never on XOR:

# %% tags=["nbval-check-output"]
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8), layout="constrained")
gate_models = {}
for ax, gate in zip(axes, ["AND", "OR", "NAND", "XOR"], strict=True):
    gate_models[gate] = model = Perceptron(*make_gate(gate))
    status = model.train()
    PerceptronPlot(ax, legend=gate == "AND").update(model)
    ax.set_title(f"{gate}: {status.state}, {status.errors} errors")
    print(f"{gate:4s} {status.state:9s} after {status.epochs} epochs, "
          f"weights {model.parameters()}")
plt.show()
assert all(gate_models[gate].status.state == "converged" for gate in ["AND", "OR", "NAND"])
assert all(gate_models[gate].epochs <= 5 for gate in ["AND", "OR", "NAND"])
assert gate_models["XOR"].status.state == "cycling"

# %% [markdown]
# **Why XOR fails: the weights cycle.** With a fixed sample order the rule is
# deterministic, so if two epochs *start* with the same weights, everything in between
# repeats for ever. The model detects exactly that:

# %% tags=["nbval-check-output"]
xor_model = gate_models["XOR"]
print(xor_model.status.message)
for epoch, weights in enumerate(xor_model.epoch_start_weights, start=1):
    print(f"epoch {epoch} starts with (w1, w2, b) = {weights}")
later, earlier = xor_model.status.cycle
assert xor_model.epoch_start_weights[later] == xor_model.epoch_start_weights[earlier]
errors_over_time = []
for _ in range(50):  # the detection is a proof; brute force agrees
    xor_model.epoch()
    errors_over_time.append(xor_model.errors())
assert min(errors_over_time) > 0

# %% [markdown]
# **Why no line works, a proof.** Suppose $\mathrm{step}(w_1 x_1 + w_2 x_2 + b)$
# computed XOR. The four inputs give four conditions:
#
# | input | target | condition |
# |---|---|---|
# | (0, 0) | 0 | $b < 0$ |
# | (0, 1) | 1 | $w_2 + b \ge 0$ |
# | (1, 0) | 1 | $w_1 + b \ge 0$ |
# | (1, 1) | 0 | $w_1 + w_2 + b < 0$ |
#
# Adding the middle two gives $w_1 + w_2 + 2b \ge 0$, so $w_1 + w_2 + b \ge -b > 0$,
# contradicting the last line. No weights exist, for any learning rule. A search over a
# grid of 68 921 weight settings agrees: the best any of them does is 3 out of 4.

# %% tags=["nbval-check-output"]
values = np.linspace(-5, 5, 41)
W1, W2, B = (grid.ravel() for grid in np.meshgrid(values, values, values))
X_xor, y_xor = make_gate("XOR")
correct = (step(np.outer(W1, X_xor[:, 0]) + np.outer(W2, X_xor[:, 1]) + B[:, None]) == y_xor)
print(f"{len(W1)} settings tried; best: {correct.sum(axis=1).max()} of 4 correct")
assert correct.sum(axis=1).max() == 3

# %% [markdown]
# Marvin Minsky and Seymour Papert made this limit famous in *Perceptrons* (1969). The
# way out is to stack neurons: XOR is AND(OR, NAND), and each of those *is* linearly
# separable. Our three trained perceptrons, wired into two layers, compute XOR:

# %% tags=["live", "nbval-check-output"]
hidden = np.c_[gate_models["OR"].predict(X_xor), gate_models["NAND"].predict(X_xor)]
two_layer_output = gate_models["AND"].predict(hidden)
print("x:", X_xor.astype(int).tolist(), "→", two_layer_output.tolist())
assert np.array_equal(two_layer_output, y_xor)

# %% [markdown]
# That is a **multi-layer perceptron**, the subject of lesson 2. Its weights can no
# longer be learned with Rosenblatt's rule (the hidden neurons have no targets): that
# needs gradients, hence activations whose derivative is not zero almost everywhere.
#
# Try it: in the playground below (XOR), press ▶ and watch the status line report the
# cycle; then switch to `blobs` or your own data with
# `PerceptronPlayground(X=X, y=y)`.

# %%
PerceptronPlayground("XOR")

# %% [markdown]
# ## 7. Common mistakes
#
# - **Labels $-1/+1$.** Many texts write the perceptron with targets $\pm 1$ and the
#   update $\Delta w = \eta\, y\, x$ on mistakes. Mixing that with the 0/1 version above
#   silently trains nonsense; the model refuses and says why.
# - **Forgetting the bias.** Without $b$ the boundary must pass through the origin, and
#   $(0, 0)$ always gets $z = 0$, hence class 1: AND and XOR, which want 0 there, become
#   impossible.
# - **Expecting the rule to stop on its own.** On data that is not linearly separable
#   it never does. Cap the epochs, and look at the error count, not just the last update.
# - **Unscaled features.** An input in the millions swamps the bias and the other input;
#   standardize first. The model refuses values beyond $10^6$.
# - **Reading $f(z)$ as a probability of the class.** A sigmoid's output looks like one,
#   but a perceptron trained with Rosenblatt's rule was never fit to be calibrated.

# %% tags=["nbval-check-output"]
def value_error_message(action):
    """The message of the ValueError that ``action()`` raises (and fail if it raises none)."""
    try:
        action()
    except ValueError as error:
        return str(error)
    raise AssertionError("expected a ValueError")


message = value_error_message(lambda: Perceptron(X_and, [-1, -1, -1, 1]))
print("labels ±1 →", message)
assert "(y + 1) // 2" in message
message = value_error_message(lambda: Perceptron(X_and * 1e9, y_and))
print("huge inputs →", message)
assert "Rescale" in message
any_weights = rng.normal(size=(2, 1000))  # without a bias, (0, 0) has z = 0 for every w
assert np.all(step(np.zeros(2) @ any_weights) == 1)
moons_model = Perceptron(*make_moons(100, seed=0), max_epochs=30)
print(moons_model.train().message)
assert moons_model.status.state == "epoch cap"


# %% [markdown]
# ## 8. Check your understanding
#
# 1. A perceptron has $w = (2, -1)$, $b = 0.5$. What does it predict for $x = (1, 3)$?
#    The target is 1 and $\eta = 0.5$: what are the new weights and bias?
# 2. You multiply $w$ and $b$ by 10. What happens to the boundary, and to the
#    predictions?
# 3. Why can gradient descent not train a neuron with a step activation?
# 4. Is the data $\{(0,0) \to 1, (1,1) \to 1, (0,1) \to 0, (1,0) \to 0\}$ (XNOR)
#    learnable by one perceptron?
#
# <details><summary>Answers (try first)</summary>
#
# 1. $z = 2 - 3 + 0.5 = -0.5 < 0$, so $\hat y = 0$. The error is $1 - 0 = 1$:
#    $w \leftarrow (2, -1) + 0.5 \cdot (1, 3) = (2.5, 0.5)$, $b \leftarrow 0.5 + 0.5 = 1$.
#    The cell below checks this.
# 2. Nothing: $z$ is multiplied by 10 and keeps its sign, so the line and every
#    prediction stay. (With a sigmoid the output would get sharper, not move.)
# 3. Its derivative is 0 everywhere it is defined, so every gradient through it is 0:
#    no weight would ever change.
# 4. No. It is XOR with the classes swapped; the same four inequalities, reversed,
#    contradict each other. You need two layers.
#
# </details>
#
# The cell below checks every answer: 1 by the update, 2 on a thousand random points
# (and the sigmoid's sharper output), 3 with a gradient-descent step on a squared error
# through the step function, 4 by training.

# %% tags=["nbval-check-output"]
w_new, b_new = perceptron_update([2.0, -1.0], 0.5, [1.0, 3.0], 1, 0.5)
assert step(np.array([2.0, -1.0]) @ [1.0, 3.0] + 0.5) == 0
assert w_new.tolist() == [2.5, 0.5] and b_new == 1.0
# Answer 2: ×10 keeps every class, and only sharpens a sigmoid's output.
w_q, b_q = np.array([2.0, -1.0]), 0.5
assert np.array_equal(step(X_grid @ w_q + b_q), step(X_grid @ (10 * w_q) + 10 * b_q))
sigmoid = ACTIVATIONS["sigmoid"][0]
assert np.all(np.abs(sigmoid(X_grid @ (10 * w_q) + 10 * b_q) - 0.5)
              >= np.abs(sigmoid(X_grid @ w_q + b_q) - 0.5))
# Answer 3: the chain rule's gradient of (step(w·x + b) - y)² is 2 (ŷ - y) step'(z) x = 0.
z_and = X_and @ w_q + b_q
gradient_w = 2 * (step(z_and) - y_and) * ACTIVATIONS["step"][1](z_and) @ X_and
assert np.all(gradient_w == 0) and np.any(step(z_and) != y_and)  # wrong, yet no signal
# Answer 4: XNOR makes the rule cycle, like XOR.
xnor_model = Perceptron(*make_gate("XOR"))
xnor_model.set_data(X_xor, 1 - y_xor)
assert xnor_model.train().state == "cycling"
print("answers 1, 2, 3 and 4 check out")

# %% [markdown]
# ## Summary
#
# - A perceptron computes $\hat y = \mathrm{step}(w \cdot x + b)$: a weighted vote with a
#   threshold. Its boundary is the line $w \cdot x + b = 0$; $w$ is normal to it and
#   points to class 1, $b$ shifts it, and only the direction of $(w, b)$ matters.
# - Rosenblatt's rule $\Delta w = \eta (y - \hat y) x$, $\Delta b = \eta (y - \hat y)$
#   changes the weights only on mistakes, each time in the right direction; on linearly
#   separable data it converges after at most $(R/\gamma)^2$ mistakes.
# - Step, sigmoid, tanh and ReLU are activation functions; gradient-based learning
#   needs a useful derivative, which the step does not have, sigmoid/tanh lose when
#   they saturate, and ReLU keeps for $z > 0$ (its one kink at 0 does no harm).
# - XOR is not linearly separable: the rule cycles for ever, and no weights exist. Two
#   layers of perceptrons solve it, which is where lesson 2 starts.
#
# **Next:** practise in [exercise 1: a perceptron from scratch](exercises/01-perceptron.ipynb),
# then continue with [lesson 2: feed-forward networks](02-feedforward-networks.ipynb).
