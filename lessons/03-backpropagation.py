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
# # 3 · Backpropagation (75 min)
#
# Lesson 2 trained networks with a black box, `train_mlp`, that somehow knew how each
# weight should change. This lesson opens the box. **Backpropagation** computes the
# gradient of the loss with respect to *every* weight in one backward sweep, for two to
# three times the cost of the forward pass (section 6 counts and times it). It is the chain
# rule, applied in a clever order.
#
# **By the end of this lesson you can**
#
# 1. apply the chain rule on a computational graph: local gradients, upstream gradients,
#    and why gradients *add up* where a value is used twice;
# 2. run the backward pass of an MLP layer by layer in matrix form ($\delta$,
#    $\partial L/\partial W = \delta\, a^\top$, $\partial L/\partial b = \delta$) and check
#    every shape;
# 3. derive the gradients of the mean squared error, of binary cross-entropy and of
#    softmax cross-entropy, and say why a sigmoid output wants cross-entropy;
# 4. train the XOR network with hand-written backprop and gradient descent;
# 5. verify any gradient with finite differences (relative error) and against PyTorch.
#
# The interactive `BackpropStepper` lets you walk through both passes one node at a time.
# Its engine and the matrix-form code live in `widgets/backprop.py` and
# `widgets/mlp_by_hand.py`; the lesson shows them as it goes.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Image

from widgets.activations import softmax
from widgets.autodiff import Value, topological_order
from widgets.backprop import BackpropStepper
from widgets.backprop_network import scalar_network
from widgets.backprop_tape import BackpropTape
from widgets.claims import check_claim, course_seed
from widgets.gradcheck import check_gradients, numerical_gradient, relative_error
from widgets.mlp_by_hand import (
    Layer,
    binary_cross_entropy,
    gradient_check,
    gradient_descent_step,
    init_mlp,
    mlp_backward,
    mlp_forward,
    mlp_loss,
    mlp_loss_and_gradients,
    mse_loss,
    predict_classes,
    softmax_cross_entropy,
    train_mlp,
)
from widgets.notebook import seed_everything, show_source
from widgets.toy_data import make_gate, make_spirals

rng = seed_everything(0)
torch.set_default_dtype(torch.float64)  # gradient comparisons need float64's precision

# %% [markdown]
# ## 1. The chain rule on scalars
#
# A derivative measures sensitivity: nudge $x$ by a tiny $\varepsilon$ and $f$ moves by
# about $f'(x)\,\varepsilon$. For a composition $f(x) = g(h(x))$ the nudges multiply:
#
# $$\frac{df}{dx} = \frac{dg}{dh}\cdot\frac{dh}{dx}.$$
#
# Example: $f(x) = \sin(x^2)$. With $h = x^2$, the **local** derivatives are
# $dh/dx = 2x$ and $d\sin(h)/dh = \cos h$, so $f'(x) = \cos(x^2)\cdot 2x$. Checked against
# a numerical estimate (section 6 explains why this one is so accurate):

# %% tags=["live", "nbval-check-output"]
x0, epsilon = 0.7, 1e-6
chain_rule = math.cos(x0**2) * 2 * x0
numerical = (math.sin((x0 + epsilon) ** 2) - math.sin((x0 - epsilon) ** 2)) / (2 * epsilon)
print(f"chain rule: {chain_rule:.8f}   numerical: {numerical:.8f}")
assert abs(chain_rule - numerical) < 1e-8

# %% [markdown]
# **When a value is used twice, the contributions add.** In $f(x) = x \sin x$, $x$ reaches
# $f$ along two paths: directly, and through $\sin$. Nudging $x$ nudges both, so
# $f'(x) = \sin x + x \cos x$ — one term per path. This "sum over paths" is the
# multivariable chain rule, and it is why backpropagation *accumulates* gradients with
# `+=`.

# %% tags=["nbval-check-output"]
two_paths = math.sin(x0) + x0 * math.cos(x0)
numerical = ((x0 + epsilon) * math.sin(x0 + epsilon) - (x0 - epsilon) * math.sin(x0 - epsilon)) / (
    2 * epsilon
)
assert abs(two_paths - numerical) < 1e-8
print(f"sum over both paths: {two_paths:.8f}   numerical: {numerical:.8f}")

# %% [markdown]
# ## 2. Computational graphs, forward and backward
#
# Break a computation into elementary operations and you get a **computational graph**:
# each node is one operation with a value. Take three parameters $a, b, c$ and
#
# $$e = a \cdot b, \qquad d = e + c, \qquad L = d \cdot a.$$
#
# $a$ is used twice. The course's tiny autodiff engine, `Value`, builds this graph while
# it computes (like Karpathy's *micrograd*): every result remembers its parents and the
# operation that made it.

# %% tags=["live", "nbval-check-output"]
a = Value(2.0, "a", parameter=True)
b = Value(-1.5, "b", parameter=True)
c = Value(0.5, "c", parameter=True)
e = (a * b).named("e")
d = (e + c).named("d")
L = (d * a).named("L")
print(L, "  parents of L:", [parent.label for parent in L.parents], " operation:", L.op)

# %% [markdown]
# **Forward pass:** compute node values from the inputs to the output.
# **Backward pass:** compute $\partial L/\partial\,\text{node}$ for every node, from the
# output back to the inputs. Each node only needs its **local gradient** — the derivative
# of its own output with respect to each of its inputs:
#
# | operation | output | local gradient w.r.t. $u$ | w.r.t. $v$ |
# |---|---|---|---|
# | add | $u + v$ | $1$ | $1$ |
# | multiply | $u \cdot v$ | $v$ | $u$ |
# | power | $u^k$ | $k\,u^{k-1}$ | |
# | tanh | $t = \tanh u$ | $1 - t^2$ | |
# | sigmoid | $s = \sigma(u)$ | $s(1 - s)$ | |
# | ReLU | $\max(u, 0)$ | $1$ if $u > 0$ else $0$ | |
# | exp, log | $e^u$, $\log u$ | $e^u$, $1/u$ | |
#
# The chain rule then says, for each edge from an input $u$ into a node $n$:
#
# $$\underbrace{\frac{\partial L}{\partial u}}_{\text{gradient}} \mathrel{+}=
# \underbrace{\frac{\partial L}{\partial n}}_{\text{upstream}} \cdot
# \underbrace{\frac{\partial n}{\partial u}}_{\text{local}}.$$
#
# The backward pass visits nodes in **reverse topological order** (every node after all
# the nodes that use it), so a node's upstream gradient is complete before it is passed
# on. It starts from $\partial L/\partial L = 1$.
#
# In the engine, each row of the table is one small *rule* next to the method that uses
# it: from the inputs' numbers it returns the output's number and the local gradients.
# Subtraction and division have no rule of their own: $u - v = u + v\cdot(-1)$ and
# $u / v = u \cdot v^{-1}$, so their gradients follow from the rows above.

# %%
show_source(Value.__mul__, Value.tanh, Value.__sub__)

# %% [markdown]
# ### Step through it
#
# Press **Next ▶** to compute one node of the forward pass, then one edge of the backward
# pass at a time, then the weight updates. **◀ Prev** undoes a step. The caption shows
# *upstream × local = contribution*; watch $a$'s gradient receive two contributions. The
# table's last columns compare each finished gradient with a numerical estimate.

# %%
stepper = BackpropStepper(L, lr=0.1)
stepper

# %% [markdown]
# Every button is a method, so the same steps can be taken in code (this is also how the
# widget is tested). The model behind the widget, `BackpropTape`, records each step with
# its numbers. The forward pass:

# %% tags=["nbval-check-output"]
tape = BackpropTape(L, lr=0.1)
tape.run_forward()
for step in tape.steps[: tape.position]:
    print(step.text)
assert (tape.value_of(e), tape.value_of(d), tape.value_of(L)) == (-3.0, -2.5, -5.0)

# %% [markdown]
# The backward pass, edge by edge:

# %% tags=["nbval-check-output"]
while tape.phase == "backward":
    tape.next()
    print(tape.current_steps[-1].text)

# %% [markdown]
# By hand: $\partial L/\partial d = a = 2$ and, along the direct edge, $\partial L/\partial
# a = d = -2.5$. Then $\partial L/\partial e = \partial L/\partial c = 2 \cdot 1 = 2$, and
# through $e = a \cdot b$: $\partial L/\partial b = 2 \cdot a = 4$ and $a$'s second
# contribution $2 \cdot b = -3$. In total
#
# $$\frac{\partial L}{\partial a} = -2.5 + (-3) = -5.5 = 2ab + c,$$
#
# which is what differentiating $L = (ab + c)\,a = a^2 b + ac$ directly gives.

# %%
assert tape.grad_of(a) == 2 * a.data * b.data + c.data == -5.5
assert (tape.grad_of(b), tape.grad_of(c)) == (a.data**2, a.data) == (4.0, 2.0)

# %% [markdown]
# **The numerical check.** For each node, the tape also estimated $\partial L/\partial$node
# by nudging that node's value up and down by a millionth of its size and recomputing $L$
# (section 6). Every gradient agrees to better than one part in a million. (Where a node
# sits on a kink, such as ReLU at exactly 0, there is no slope to estimate: the widget
# says "not differentiable here".)

# %% tags=["nbval-check-output"]
for i, name in enumerate(tape.names):
    print(f"{name}: backprop {tape.grads[i]:+.6f}   numerical {tape.numerical_grads[i]:+.6f}")
assert all(tape.relative_error(i) < 1e-6 for i in range(len(tape.nodes)))

# %% [markdown]
# The engine's own `backward()` is the same algorithm without the recording. In steps:
#
# 1. **Order the graph.** List every node that $L$ depends on so that each node comes
#    *after* all of its parents (a *topological order*). A depth-first walk from $L$
#    does it: before appending a node, append each of its parents that is not listed yet.
# 2. **Reset.** Set every node's gradient to $0$ (contributions are *added*), then
#    $\partial L/\partial L = 1$.
# 3. **Walk the list backwards**, from $L$ towards the inputs. For each node $n$ and each
#    parent $u$ of $n$: $u.\mathrm{grad} \mathrel{+}= n.\mathrm{grad} \cdot
#    \partial n/\partial u$, with the local gradient from the table above.
#
# Going backwards through a topological order means that when we reach $n$, every node
# that uses $n$ has already been visited, so $n$'s gradient is complete before it is
# passed on. You will write this function yourself in an exercise; here is the order the
# engine visits for our expression, checked to be a valid topological order:

# %% tags=["nbval-check-output"]
order = topological_order(L)
print("topological order:", [node.label for node in order])
print("backward visits:  ", [node.label for node in reversed(order)])
position = {id(node): index for index, node in enumerate(order)}
assert len(position) == len(order) == 6  # a, b, c, e, d, L: each node once
assert all(position[id(parent)] < position[id(node)] for node in order for parent in node.parents)
assert order[-1] is L

# %%
L.backward()
assert (a.grad, b.grad, c.grad) == (tape.grad_of(a), tape.grad_of(b), tape.grad_of(c))

# %% [markdown]
# **Agreement with PyTorch.** PyTorch's autograd records the same kind of graph:

# %% tags=["live", "nbval-check-output"]
a_t, b_t, c_t = (torch.tensor(v.data, requires_grad=True) for v in (a, b, c))
L_t = (a_t * b_t + c_t) * a_t
L_t.backward()
print("PyTorch:", a_t.grad.item(), b_t.grad.item(), c_t.grad.item())
assert (a_t.grad.item(), b_t.grad.item(), c_t.grad.item()) == (a.grad, b.grad, c.grad)

# %% [markdown]
# **The update.** Gradient descent moves each parameter a small step *against* its
# gradient, $\theta \leftarrow \theta - \eta\,\partial L/\partial\theta$, here with learning
# rate $\eta = 0.1$. If the goal is to make $L$ smaller, it works:

# %% tags=["nbval-check-output"]
tape.update()
for step in tape.steps:
    if step.phase == "update":
        print(step.text)
a_new, b_new, c_new = (tape.value_of(v) for v in (a, b, c))
L_new = (a_new * b_new + c_new) * a_new
print(f"L before the update: {L.data:.4f}, after: {L_new:.4f}")
assert math.isclose(a_new, 2.0 - 0.1 * -5.5) and L_new < L.data

# %% [markdown]
# For readers without a running kernel, here is the stepper's picture at the end of the
# backward pass: every node's value and gradient, the last edge highlighted.

# %%
finished = BackpropStepper(L)
finished.run_backward()
Image(finished.png())

# %% [markdown]
# ## 3. Backpropagation in an MLP, layer by layer
#
# An MLP is a computational graph too, but it is clearer in matrix form. For one example,
# with $a^0 = x$ and layers $l = 1, \dots, L$:
#
# $$z^l = W^l a^{l-1} + b^l, \qquad a^l = \sigma(z^l), \qquad \text{loss } \mathcal{L}(a^L, y).$$
#
# Define the layer's **error signal** $\delta^l = \partial\mathcal{L}/\partial z^l$ (a
# vector with one entry per unit). The chain rule, applied to whole layers, gives four
# equations:
#
# $$
# \begin{aligned}
# \delta^L &= \frac{\partial\mathcal{L}}{\partial a^L} \odot \sigma'(z^L)
#   && \text{(output layer)}\\
# \delta^l &= \left( (W^{l+1})^\top \delta^{l+1} \right) \odot \sigma'(z^l)
#   && \text{(carry the error one layer back)}\\
# \frac{\partial\mathcal{L}}{\partial W^l} &= \delta^l\, (a^{l-1})^\top
#   && \text{(an outer product: same shape as } W^l\text{)}\\
# \frac{\partial\mathcal{L}}{\partial b^l} &= \delta^l
# \end{aligned}
# $$
#
# $\odot$ is the element-wise product. Why $\partial\mathcal{L}/\partial W^l_{jk} =
# \delta^l_j\, a^{l-1}_k$: the weight $W^l_{jk}$ affects the loss only through $z^l_j =
# \sum_k W^l_{jk} a^{l-1}_k + b^l_j$, whose local gradient with respect to $W^l_{jk}$ is
# $a^{l-1}_k$. Each weight's gradient is *the error at its output times the activity at its
# input*.
#
# ### Watch it on a 2-2-1 network
#
# The stepper also draws a tiny network (here: sigmoid units, squared error, the XOR
# example $x = (1, 0)$ with target $y = 1$). Each **Next** now does a whole layer: the
# caption shows the matrix-form equation, the boxes show $z$, $a$, $b$ and $\delta$, the
# connections show each weight and its gradient.

# %%
network = scalar_network(
    x=[1.0, 0.0],
    target=1.0,
    weights=[[[0.5, -0.4], [0.3, 0.8]], [[1.0, -1.2]]],
    biases=[[0.1, -0.2], [0.05]],
    activation="sigmoid",
)
network_stepper = BackpropStepper(network, lr=0.5)
network_stepper

# %% [markdown]
# The same steps in code; each line is what the caption shows after one click:

# %% tags=["nbval-check-output"]
walk = BackpropStepper(network, lr=0.5)
while walk.next():
    print(walk.caption(), end="\n\n")

# %% [markdown]
# Notice in layer 1's step that the gradients of the weights leaving $x_2$ are exactly 0:
# $x_2 = 0$, and $\partial\mathcal{L}/\partial W_{jk} = \delta_j x_k$. An input that is
# off cannot tell its weights which way to move.
#
# The stepper computed all of this node by node with the scalar engine. The matrix-form
# equations must give the same $\delta$s — checked against the course's matrix code:

# %% tags=["live", "nbval-check-output"]
matrix_layers = [
    Layer(W=np.array([[0.5, -0.4], [0.3, 0.8]]), b=np.array([0.1, -0.2]), activation="sigmoid"),
    Layer(W=np.array([[1.0, -1.2]]), b=np.array([0.05]), activation="sigmoid"),
]
_, matrix_gradients = mlp_loss_and_gradients(matrix_layers, [[1.0, 0.0]], [[1.0]], "mse")
for layer_number, gradient in enumerate(matrix_gradients):
    scalar_deltas = [walk.tape.grad_of(z) for z in network.z[layer_number]]
    assert np.allclose(scalar_deltas, gradient.delta[0], rtol=1e-12)
    assert np.allclose(
        [[walk.tape.grad_of(w) for w in row] for row in network.weights[layer_number]], gradient.W
    )
print("scalar engine and matrix form agree on every δ and every ∂L/∂W")

# %% [markdown]
# ### A whole batch at once
#
# With one example per row, the layer's $\delta$s form a matrix $\Delta^l$ of shape
# $(N, n_l)$ and the per-example outer products are summed by one matrix product:
#
# $$\frac{\partial\mathcal{L}}{\partial W^l} = (\Delta^l)^\top A^{l-1}, \qquad
# \frac{\partial\mathcal{L}}{\partial b^l} = \textstyle\sum_{\text{rows}} \Delta^l, \qquad
# \frac{\partial\mathcal{L}}{\partial A^{l-1}} = \Delta^l W^l.$$
#
# (The loss is averaged over the batch, so $1/N$ is already inside $\Delta$.) This is the
# course's backward pass; compare it line by line with the equations:

# %% tags=["nbval-check-output"]
show_source(mlp_backward)

# %% [markdown]
# Every gradient has the shape of what it differentiates; on a batch of 5 through a
# 3-4-2 network:

# %% tags=["nbval-check-output"]
layers = init_mlp([3, 4, 2], hidden_activation="tanh", rng=rng)
X_batch = rng.normal(size=(5, 3))
cache = mlp_forward(layers, X_batch)
gradients = mlp_backward(layers, cache, np.ones((5, 2)))
for number, (layer, gradient) in enumerate(zip(layers, gradients, strict=True), start=1):
    print(
        f"layer {number}: Δ {gradient.delta.shape}   dW {gradient.W.shape} = W {layer.W.shape}"
        f"   db {gradient.b.shape} = b {layer.b.shape}"
    )
    assert gradient.W.shape == layer.W.shape and gradient.b.shape == layer.b.shape

# %% [markdown]
# ## 4. The gradients of two losses
#
# Backpropagation starts from $\partial\mathcal{L}/\partial\hat y$, which depends on the
# loss.
#
# **Mean squared error** over $N$ entries: $\mathcal{L} = \frac{1}{N}\sum_i (\hat y_i -
# y_i)^2$, so
# $$\frac{\partial\mathcal{L}}{\partial\hat y_i} = \frac{2}{N}(\hat y_i - y_i).$$
#
# **Softmax cross-entropy** for classification. The output layer gives scores (logits)
# $z$; softmax turns them into probabilities $p_k = e^{z_k} / \sum_m e^{z_m}$, and the loss
# for true class $y$ is $\mathcal{L} = -\log p_y = -z_y + \log\sum_m e^{z_m}$.
# Differentiating:
#
# $$\frac{\partial\mathcal{L}}{\partial z_k} = -[k = y] + \frac{e^{z_k}}{\sum_m e^{z_m}}
# = p_k - [k = y],$$
#
# "predicted probability minus one-hot target": beautifully simple, and the reason softmax
# and cross-entropy are always used together. Averaged over a batch, divide by $N$.
# (Lesson 2's classifiers used exactly this loss, as a black box.)
#
# **Binary cross-entropy** is the two-class case, for a single **sigmoid** output
# $p = \sigma(z)$, read as the probability of class 1. The loss is the negative log of the
# probability given to the true class:
#
# $$\mathcal{L} = -\big(y \log p + (1 - y)\log(1 - p)\big), \qquad
# \frac{\partial\mathcal{L}}{\partial p} = \frac{p - y}{p(1 - p)}.$$
#
# The sigmoid's local gradient is $p(1 - p)$, which cancels the denominator:
#
# $$\delta = \frac{\partial\mathcal{L}}{\partial z} = p - y,$$
#
# the same "probability minus target" as softmax's. Compare the **mean squared error**
# through the same sigmoid: $\delta = 2(p - y)\,p(1 - p)$. The extra factor $p(1 - p)$ is
# at most $0.25$, and close to 0 when the output saturates: an output that is
# *confidently wrong* ($p \approx 0$ for $y = 1$) learns almost nothing from the squared
# error, and the most from cross-entropy. That is why **a sigmoid output for
# classification should be trained with binary cross-entropy**; lessons 2 and 3 used the
# squared error on XOR only to keep the first derivative simple (section 5 compares the
# two).

# %% tags=["nbval-check-output"]
show_source(mse_loss, binary_cross_entropy, softmax_cross_entropy)

# %% [markdown]
# A confidently wrong output, $z = -6$ for a target of 1, and the $\delta$ each loss sends
# back:

# %% tags=["nbval-check-output"]
p_wrong = 1 / (1 + math.exp(6.0))  # σ(-6) ≈ 0.0025
delta_mse = 2 * (p_wrong - 1) * p_wrong * (1 - p_wrong)
delta_bce = p_wrong - 1
print(f"p = {p_wrong:.4f}: δ with MSE {delta_mse:.4f}, with binary cross-entropy {delta_bce:.4f}")
assert abs(delta_bce / delta_mse) > 100
output_t = torch.tensor([[-6.0]], requires_grad=True)
torch.nn.functional.binary_cross_entropy(torch.sigmoid(output_t), torch.ones(1, 1)).backward()
assert math.isclose(output_t.grad.item(), delta_bce, rel_tol=1e-9)
_, dp = binary_cross_entropy([[p_wrong]], [[1.0]])
assert math.isclose(dp[0, 0] * p_wrong * (1 - p_wrong), delta_bce, rel_tol=1e-9)

# %% tags=["nbval-check-output"]
logits = rng.normal(size=(4, 3))
labels = np.array([0, 2, 1, 2])
loss_value, dlogits = softmax_cross_entropy(logits, labels)
assert np.allclose(dlogits, (softmax(logits) - np.eye(3)[labels]) / 4)  # p - onehot, / N

logits_t = torch.tensor(logits, requires_grad=True)
torch.nn.functional.cross_entropy(logits_t, torch.tensor(labels)).backward()
assert np.allclose(dlogits, logits_t.grad.numpy(), rtol=1e-10)
predictions, targets = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
predictions_t = torch.tensor(predictions, requires_grad=True)
torch.nn.functional.mse_loss(predictions_t, torch.tensor(targets)).backward()
assert np.allclose(mse_loss(predictions, targets)[1], predictions_t.grad.numpy(), rtol=1e-10)
print(f"cross-entropy {loss_value:.4f}; both gradients match PyTorch's")

# %% [markdown]
# ## 5. Gradient descent: training XOR with hand-written backprop
#
# With all gradients in hand, training is a loop: forward, loss, backward, step.

# %% tags=["nbval-check-output"]
show_source(gradient_descent_step, train_mlp)

# %% [markdown]
# This is exactly what lesson 2 used as a black box. Train the 2-2-1 XOR network with two
# learning rates:

# %% tags=["live"]
X_xor, y_xor = make_gate("XOR")
targets_xor = y_xor.reshape(-1, 1)
histories, xor_networks = {}, {}
for lr in (0.2, 2.0):
    xor_networks[lr] = init_mlp(
        [2, 2, 1],
        hidden_activation="sigmoid",
        output_activation="sigmoid",
        rng=np.random.default_rng(0),  # lesson 2's start, which η = 2 solves
    )
    histories[lr] = train_mlp(
        xor_networks[lr], X_xor, targets_xor, lr=lr, epochs=3000
    )
    history, predicted = (
        histories[lr],
        predict_classes(xor_networks[lr], X_xor),
    )
    print(
        f"η = {lr}: loss {history[0]:.3f} -> {history[-1]:.4f}, predictions {predicted}"
    )

plt.figure(figsize=(6, 3.5))
for lr, history in histories.items():
    plt.semilogy(history, label=f"η = {lr}")
plt.xlabel("gradient-descent step")
plt.ylabel("mean squared error")
plt.title("XOR, 2-2-1 network, hand-written backprop")
plt.legend()
plt.show()

# %% tags=["nbval-check-output"]
assert np.array_equal(predict_classes(xor_networks[2.0], X_xor), y_xor)
check_claim("lesson 3: XOR loss after 3000 steps, η = 2", histories[2.0][-1], at_most=0.01)
check_claim("lesson 3: XOR loss after 3000 steps, η = 0.2", histories[0.2][-1], at_least=0.01)
print("η = 2 solves XOR in 3000 steps; η = 0.2 is still on the plateau")

# %% [markdown]
# The long flat start is a **plateau**: the sigmoids begin in a region where the loss
# barely changes, so the gradients are tiny. A smaller $\eta$ takes proportionally longer
# to escape: on a plateau each step moves the weights by $\eta$ times an almost constant
# gradient, so halving $\eta$ doubles the number of steps. Measured on three starts that
# solve XOR (lesson 2's seed 0, and seeds 2 and 3), counting the steps until every output
# is within 0.4 of its target:

# %%
def steps_to_solve(seed, lr, loss="mse", max_steps=3000):
    """Steps of gradient descent until every output is within 0.4 of its target, or None."""
    layers = init_mlp(
        [2, 2, 1],
        hidden_activation="sigmoid",
        output_activation="sigmoid",
        rng=np.random.default_rng(seed),
    )
    for step_number in range(max_steps):
        if np.abs(mlp_forward(layers, X_xor).output - targets_xor).max() < 0.4:
            return step_number
        _, gradients = mlp_loss_and_gradients(layers, X_xor, targets_xor, loss)
        gradient_descent_step(layers, gradients, lr)
    return None


solving_starts = (0, 2, 3)
steps_at = {lr: [steps_to_solve(seed, lr) for seed in solving_starts] for lr in (1.0, 2.0)}
ratios = [slow / fast for slow, fast in zip(steps_at[1.0], steps_at[2.0], strict=True)]
for seed, slow, fast in zip(solving_starts, steps_at[1.0], steps_at[2.0], strict=True):
    print(f"start {seed}: {slow} steps with η = 1, {fast} with η = 2")
check_claim("lesson 3: steps at η = 1 over steps at η = 2, smallest", min(ratios), at_least=1.7)
check_claim("lesson 3: steps at η = 1 over steps at η = 2, largest", max(ratios), at_most=2.3)

# %% [markdown]
# Too large an $\eta$ overshoots instead; later lessons explore this trade-off.
#
# **The loss matters too.** The plateau is partly of our own making: section 4 showed
# that the squared error through a sigmoid multiplies $\delta$ by $2p(1 - p)$, which is
# about $0.5$ while the outputs sit near $0.5$. Binary cross-entropy drops that factor.
# Same network, same six random starts, same $\eta = 2$, both losses:

# %%
loss_starts = [course_seed(seed) for seed in range(6)]
solve_steps = {
    loss: [steps_to_solve(seed, 2.0, loss) for seed in loss_starts]
    for loss in ("mse", "binary_cross_entropy")
}
for loss, steps in solve_steps.items():
    print(f"{loss:21s} steps to solve each start: {steps}  (None: not within 3000)")
both = [
    (mse, bce)
    for mse, bce in zip(solve_steps["mse"], solve_steps["binary_cross_entropy"], strict=True)
    if mse is not None and bce is not None
]
solved = {loss: sum(step is not None for step in steps) for loss, steps in solve_steps.items()}
check_claim("lesson 3: XOR starts solved by both losses", len(both), at_least=2)
check_claim(
    "lesson 3: steps with MSE over steps with BCE, median",
    np.median([mse / bce for mse, bce in both]),
    at_least=1.5,
)
check_claim(
    "lesson 3: XOR starts solved, BCE minus MSE", solved["binary_cross_entropy"] - solved["mse"],
    at_least=-1,
    at_most=1,
)

# %% [markdown]
# Binary cross-entropy escapes the plateau in about half the steps (the median over the
# starts both losses solve). It does not rescue the starts that stall with the squared
# error (both losses solve the same number of starts, give or take one): there the two
# hidden units themselves are stuck (lesson 2 saw that more hidden units
# help), not the output's loss. With a sigmoid output for classification, use binary
# cross-entropy (in PyTorch, `BCEWithLogitsLoss`, which also applies the sigmoid).
#
# ## 6. Gradient checking
#
# Hand-written gradients are easy to get subtly wrong, and a wrong gradient often still
# *trains*, just badly. The test: compare with the **central difference**
#
# $$\frac{\partial\mathcal{L}}{\partial\theta} \approx
# \frac{\mathcal{L}(\theta + \varepsilon) - \mathcal{L}(\theta - \varepsilon)}{2\varepsilon},$$
#
# whose error shrinks like $\varepsilon^2$ (the one-sided difference's only like
# $\varepsilon$). Compare them with the **relative error**
# $\|g_\text{backprop} - g_\text{numerical}\| / (\|g_\text{backprop}\| + \|g_\text{numerical}\|)$:
# it does not depend on the gradient's scale. In float64, a correct gradient gives about
# $10^{-9}$ or less; a wrong one $10^{-2}$ or more.

# %% tags=["nbval-check-output"]
show_source(numerical_gradient, relative_error, check_gradients, gradient_check)

# %% tags=["nbval-check-output"]
check_rng = np.random.default_rng(1)
check_layers = init_mlp([3, 4, 3], hidden_activation="tanh", rng=check_rng)
for layer in check_layers:
    layer.b = check_rng.normal(0, 0.3, layer.b.shape)
X_check, y_check = check_rng.normal(size=(6, 3)), check_rng.integers(0, 3, 6)
errors = gradient_check(check_layers, X_check, y_check, loss="cross_entropy")
check_claim("lesson 3: gradient check, worst relative error", max(errors.values()), at_most=1e-7)
# The errors are rounding noise (around 1e-10), whose digits differ between machines:
# print the verdict, not the noise.
print(
    {name: "below 1e-7 ✓" if error < 1e-7 else f"{error:.1e} ✗" for name, error in errors.items()}
)

# %% [markdown]
# **A gradient check catches bugs.** The most common one: forgetting the activation's
# derivative in a hidden layer, $\delta^1 = (W^2)^\top\delta^2$ instead of
# $((W^2)^\top\delta^2) \odot \sigma'(z^1)$. Written out for this network:

# %% tags=["nbval-check-output"]
cache = mlp_forward(check_layers, X_check)
_, delta_output = softmax_cross_entropy(cache.output, y_check)  # identity output: δ² = dL/dz²
upstream = delta_output @ check_layers[1].W  # dL/dA¹
buggy_delta_hidden = upstream  # BUG (on purpose): forgot ⊙ tanh'(Z¹)
correct_delta_hidden = upstream * (1 - np.tanh(cache.pre_activations[0]) ** 2)
numerical_W1 = numerical_gradient(
    lambda: mlp_loss(check_layers, X_check, y_check, "cross_entropy"), check_layers[0].W
)
buggy_error = relative_error(buggy_delta_hidden.T @ X_check, numerical_W1)
correct_error = relative_error(correct_delta_hidden.T @ X_check, numerical_W1)
check_claim("lesson 3: relative error of the correct δ", correct_error, at_most=1e-7)
check_claim("lesson 3: relative error of the buggy δ", buggy_error, at_least=1e-2)
print(f"relative error, correct: below 1e-7   buggy: {buggy_error:.2f}")

# %% [markdown]
# **A wrong gradient often still trains.** That is what makes the bug dangerous: nothing
# crashes, the loss falls, only less than it should. Train a 2-16-3 tanh network on 150
# spiral points for 1000 steps, once with the correct $\delta^1$ and once with the bug,
# from three random starts:

# %%
X_spiral, y_spiral = make_spirals(150, classes=3, seed=0)


def train_spiral(seed, forget_derivative, steps=1000, lr=0.5):
    """Full-batch gradient descent with the δ¹ of this section; the loss before and after."""
    spiral_layers = init_mlp([2, 16, 3], hidden_activation="tanh", rng=np.random.default_rng(seed))
    first = mlp_loss(spiral_layers, X_spiral, y_spiral, "cross_entropy")
    hidden_layer, output_layer = spiral_layers
    for _ in range(steps):
        cache = mlp_forward(spiral_layers, X_spiral)
        _, delta_2 = softmax_cross_entropy(cache.output, y_spiral)
        upstream = delta_2 @ output_layer.W
        delta_1 = upstream if forget_derivative else upstream * (1 - cache.activations[1] ** 2)
        output_layer.W -= lr * delta_2.T @ cache.activations[1]
        output_layer.b -= lr * delta_2.sum(axis=0)
        hidden_layer.W -= lr * delta_1.T @ X_spiral
        hidden_layer.b -= lr * delta_1.sum(axis=0)
    return first, mlp_loss(spiral_layers, X_spiral, y_spiral, "cross_entropy")


spiral_runs = {
    seed: (train_spiral(course_seed(seed), False), train_spiral(course_seed(seed), True))
    for seed in range(3)
}
for seed, ((first, correct_loss), (_, buggy_loss)) in spiral_runs.items():
    print(f"start {seed}: loss {first:.2f} -> correct δ {correct_loss:.2f}, "
          f"buggy δ {buggy_loss:.2f}")
check_claim(
    "lesson 3: buggy δ's final over first loss, worst start",
    max(buggy / first for (first, _), (_, buggy) in spiral_runs.values()),
    at_most=0.9,
)
check_claim(
    "lesson 3: buggy δ's final loss over the correct one, smallest",
    min(buggy / correct for (_, correct), (_, buggy) in spiral_runs.values()),
    at_least=2,
)

# %% [markdown]
# With the bug the loss still falls on every start, but it ends several times higher
# than with the correct gradient. Looking at a loss curve, you might blame the learning
# rate or the architecture; the gradient check names the culprit in a second.

# %% [markdown]
# **Choosing ε.** Too large and the difference formula's own error dominates; too small
# and the two losses agree in almost all their digits, so the subtraction loses precision
# (float64 has about 16 digits). The sweet spot in float64 is around $10^{-5}$–$10^{-7}$:

# %%
epsilons = 10.0 ** -np.arange(1, 13)
sweep = []
for eps in epsilons:
    numerical_W1 = numerical_gradient(
        lambda: mlp_loss(check_layers, X_check, y_check, "cross_entropy"), check_layers[0].W, eps
    )
    sweep.append(relative_error(correct_delta_hidden.T @ X_check, numerical_W1))
plt.figure(figsize=(6, 3.5))
plt.loglog(epsilons, sweep, "o-")
plt.xlabel("ε")
plt.ylabel("relative error")
plt.title("Central differences: truncation error vs rounding error")
plt.gca().invert_xaxis()
plt.show()
best = dict(zip(epsilons, sweep, strict=True))
check_claim("lesson 3: error at ε = 1e-1 over ε = 1e-6", best[1e-1] / best[1e-6], at_least=100)
check_claim("lesson 3: error at ε = 1e-12 over ε = 1e-6", best[1e-12] / best[1e-6], at_least=1)

# %% [markdown]
# **In float32** (about 7 digits) the same sweep runs out of precision much earlier.
# Compute the loss in float32 and nudge a float32 copy of $W^1$; compare with the exact
# (float64) backprop gradient:

# %%
W1_float32 = check_layers[0].W.astype(np.float32)
b1_float32, W2_float32, b2_float32 = (
    array.astype(np.float32) for array in (check_layers[0].b, check_layers[1].W, check_layers[1].b)
)
X_float32 = X_check.astype(np.float32)


def loss_in_float32():
    """The check network's cross-entropy, every operation in float32."""
    hidden = np.tanh(X_float32 @ W1_float32.T + b1_float32)
    logits_32 = hidden @ W2_float32.T + b2_float32
    shifted = logits_32 - logits_32.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y_check)), y_check].mean()


assert loss_in_float32().dtype == np.float32
exact_W1 = correct_delta_hidden.T @ X_check
sweep_32 = {
    eps: relative_error(exact_W1, numerical_gradient(loss_in_float32, W1_float32, eps))
    for eps in 10.0 ** -np.arange(1, 8)
}
print("float32:", {f"{eps:.0e}": f"{error:.0e}" for eps, error in sweep_32.items()})
check_claim("lesson 3: float32 check, best ε", min(sweep_32.values()), at_least=3e-6)
check_claim("lesson 3: float32 check, best ε, upper", min(sweep_32.values()), at_most=1e-3)
check_claim("lesson 3: float32 check at ε = 1e-6", sweep_32[1e-6], at_least=1e-2)

# %% [markdown]
# In float32 even the best $\varepsilon$ (around $10^{-2}$) leaves a relative error of
# about $10^{-5}$ to $10^{-4}$, and float64's $\varepsilon = 10^{-6}$ gives $10^{-2}$ or worse: a
# *correct* gradient that looks like a bug. Check gradients in float64.
#
# **What a gradient check costs, and what backprop costs.** A gradient check needs two
# forward passes *per parameter*, far too slow for training. Backpropagation gets every
# gradient at once. How much does the backward pass cost next to the forward pass? Per
# layer the forward pass does one matrix product, $A W^\top$; the backward pass does two
# of the same size, $\Delta^\top A$ for $\partial\mathcal{L}/\partial W$ and $\Delta W$
# to carry the error down. Counting multiply-adds, and timing both passes in this
# kernel on a 784-256-128-10 network and a batch of 256:

# %%
from threadpoolctl import threadpool_limits

sizes = [784, 256, 128, 10]
batch = 256
forward_madds = sum(batch * n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
backward_madds = 2 * forward_madds  # ΔᵀA and ΔW, each the size of the forward product
print(f"multiply-adds: forward {forward_madds:,}, backward {backward_madds:,}: ratio 2")

cost_rng = np.random.default_rng(course_seed(0))
cost_layers = init_mlp(sizes, hidden_activation="relu", rng=cost_rng)
X_cost, y_cost = cost_rng.normal(size=(batch, sizes[0])), cost_rng.integers(0, 10, batch)
time_ratios = []  # each backward pass over the forward pass just before it
with threadpool_limits(1):  # one thread: both passes on equal terms on a busy machine
    for _ in range(9):
        started = time.perf_counter()
        cost_cache = mlp_forward(cost_layers, X_cost)
        forward_time = time.perf_counter() - started
        _, output_gradient = softmax_cross_entropy(cost_cache.output, y_cost)
        started = time.perf_counter()
        mlp_backward(cost_layers, cost_cache, output_gradient)
        time_ratios.append((time.perf_counter() - started) / forward_time)
time_ratio = float(np.median(time_ratios))  # the median shrugs off a pass another program slowed
print(f"backward / forward time: about {time_ratio:.1f}")
check_claim("lesson 3: backward over forward time", time_ratio, at_least=1.2)
check_claim("lesson 3: backward over forward time, upper", time_ratio, at_most=6)

# %% [markdown]
# The backward pass costs two to three times the forward pass: twice the multiply-adds,
# plus the element-wise work (the timing varies with the machine; the count does not).
# So one training step, forward plus backward, costs three to four forward passes, for
# *every* gradient; the check above would need $2 \times$ (number of parameters) forward
# passes. Use gradient checks to test code,
# on a small network, then switch them off.
#
# ## 7. Agreement with PyTorch autograd
#
# PyTorch computes gradients with the same algorithm (the PyTorch lessons rely on it).
# On a batch, with a deeper network, our hand-written backward and PyTorch agree:

# %% tags=["nbval-check-output"]
torch_layers = init_mlp([4, 6, 5, 3], hidden_activation="relu", rng=rng)
X_t, y_t = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
_, ours = mlp_loss_and_gradients(torch_layers, X_t, y_t, "cross_entropy")

weights = [torch.tensor(layer.W, requires_grad=True) for layer in torch_layers]
biases = [torch.tensor(layer.b, requires_grad=True) for layer in torch_layers]
activations = torch.tensor(X_t)
for number, (W_t, b_t) in enumerate(zip(weights, biases, strict=True)):
    activations = activations @ W_t.T + b_t
    if number < len(weights) - 1:
        activations = torch.relu(activations)
torch.nn.functional.cross_entropy(activations, torch.tensor(y_t)).backward()
for gradient, W_t, b_t in zip(ours, weights, biases, strict=True):
    assert np.allclose(gradient.W, W_t.grad.numpy(), rtol=1e-6, atol=1e-12)
    assert np.allclose(gradient.b, b_t.grad.numpy(), rtol=1e-6, atol=1e-12)
print("every dL/dW and dL/db matches torch.autograd")

# %% [markdown]
# ## Common mistakes
#
# * **Overwriting instead of accumulating.** A value used twice must receive the *sum* of
#   its contributions. With `=` instead of `+=`, $a$'s gradient in section 2 would be
#   $-3$ instead of $-5.5$. (The same reason PyTorch needs `optimizer.zero_grad()`: its
#   gradients accumulate across backward passes until you reset them.)
# * **Transposing the outer product.** $\partial\mathcal{L}/\partial W = \Delta^\top A$
#   has $W$'s shape $(n_\text{out}, n_\text{in})$; $A^\top\Delta$ has the transposed
#   shape. Assert the shapes.
# * **$\sigma'(a)$ instead of $\sigma'(z)$.** The sigmoid's derivative is $\sigma(z)(1 -
#   \sigma(z)) = a(1 - a)$: written in terms of $a$ it is $a(1-a)$, not
#   $\sigma(a)(1 - \sigma(a))$.
# * **Forgetting the $1/N$** of a mean loss: the gradient is then $N$ times too large,
#   and a learning rate that worked for one batch size fails for another.
# * **Gradient checks in float32, or at ReLU's kink.** float32 has about 7 digits, so a
#   correct gradient gives relative errors of $10^{-5}$–$10^{-4}$ at best and $10^{-2}$ or more with
#   float64's $\varepsilon$ (section 6); a ReLU input within $\varepsilon$ of 0 makes the
#   numerical estimate straddle the kink.
#
# The first mistake, demonstrated with the tape's record of section 2's backward pass:

# %% tags=["nbval-check-output"]
writes_to_a = [s for s in tape.steps if s.phase == "backward" and s.node == tape.index[id(a)]]
contributions = [step.upstream * step.local for step in writes_to_a]
print("contributions to ∂L/∂a:", contributions, "  sum:", sum(contributions))
assert contributions[-1] == -3.0 and sum(contributions) == -5.5

# %% [markdown]
# ## Check your understanding
#
# 1. In $L = d \cdot a$ with $d = -2.5$ and $a = 2$, what is the local gradient of $L$ with
#    respect to $d$, and with respect to $a$?
# 2. A layer has $W$ of shape $(4, 3)$. For a batch of 10 examples, what are the shapes of
#    $\Delta$, $A^{\text{prev}}$ and $\partial\mathcal{L}/\partial W$?
# 3. Why does the backward pass go in reverse topological order?
# 4. Your gradient check reports a relative error of $0.3$ for $W^1$ and $10^{-10}$ for
#    $W^2$. Where is the bug likely to be?
#
# <details><summary>Answers</summary>
#
# 1. $\partial L/\partial d = a = 2$ and $\partial L/\partial a = d = -2.5$ (for a product,
#    each input's local gradient is the *other* input).
# 2. $\Delta$: $(10, 4)$; $A^\text{prev}$: $(10, 3)$; $\partial\mathcal{L}/\partial W =
#    \Delta^\top A^\text{prev}$: $(4, 3)$, the shape of $W$.
# 3. A node can pass its gradient on only when it is complete, that is, after every node
#    that uses it has contributed. Reverse topological order guarantees this.
# 4. In carrying the error from layer 2 back to layer 1: $W^2$'s gradient (computed
#    first) is right, so look at $\Delta^2 W^2$ and the $\odot\,\sigma'(Z^1)$ factor.
#
# </details>

# %% [markdown]
# Each answer, checked in code: 1 with the engine, 2 on a batch of 10, 3 on the tape's
# record (a node passes its gradient on only after every contribution to it has
# arrived), 4 with section 6's bug.

# %% tags=["nbval-check-output"]
# Answer 1: L = d · a, so ∂L/∂d = a and ∂L/∂a (this edge only) = d.
d_leaf, a_leaf = Value(-2.5, "d", parameter=True), Value(2.0, "a", parameter=True)
(d_leaf * a_leaf).backward()
assert (d_leaf.grad, a_leaf.grad) == (2.0, -2.5)
# Answer 2: W (4, 3), a batch of 10.
answer_layers = init_mlp([3, 4], rng=np.random.default_rng(0))
answer_cache = mlp_forward(answer_layers, np.ones((10, 3)))
(answer_gradient,) = mlp_backward(answer_layers, answer_cache, np.ones((10, 4)))
print("Δ", answer_gradient.delta.shape, " A_prev", answer_cache.activations[0].shape,
      " dL/dW", answer_gradient.W.shape)
assert answer_gradient.delta.shape == (10, 4) and answer_gradient.W.shape == (4, 3)
# Answer 3: on the tape, every step that passes a node's gradient on comes after the last
# step that adds to that node's gradient.
backward_steps = [s for s in tape.steps if s.phase == "backward"]
last_write = {s.node: number for number, s in enumerate(backward_steps)}
assert all(
    last_write.get(s.source, -1) < number for number, s in enumerate(backward_steps)
)
# Answer 4: the bug of section 6 lives between layers 2 and 1: W² is right, W¹ is not.
assert correct_error < 1e-7 and buggy_error > 1e-2  # W¹'s gradient, without and with the bug
assert np.allclose(delta_output.T @ cache.activations[1], mlp_loss_and_gradients(
    check_layers, X_check, y_check, "cross_entropy")[1][1].W)  # W²'s never used the bug
print("answers 1 to 4 check out")

# %% [markdown]
# ## Summary
#
# * Backpropagation is the chain rule applied from the output backwards: each node
#   multiplies the **upstream** gradient by its **local** gradient and passes it on;
#   where a value is used several times, the contributions **add**.
# * For an MLP in matrix form: $\delta^L = \partial\mathcal{L}/\partial a^L \odot
#   \sigma'(z^L)$, $\delta^l = ((W^{l+1})^\top\delta^{l+1}) \odot \sigma'(z^l)$,
#   $\partial\mathcal{L}/\partial W^l = \delta^l (a^{l-1})^\top$,
#   $\partial\mathcal{L}/\partial b^l = \delta^l$; on a batch, $\Delta^\top A$.
# * MSE's gradient is $\frac{2}{N}(\hat y - y)$; softmax cross-entropy's is $p - \text{one-hot}(y)$,
#   divided by $N$; binary cross-entropy through a sigmoid gives $\delta = p - y$, without
#   the squared error's factor $p(1 - p)$ that slows a sigmoid output on a plateau.
# * Gradient descent, $\theta \leftarrow \theta - \eta\,\nabla_\theta\mathcal{L}$, with
#   these gradients trains the XOR network.
# * Check hand-written gradients with central differences and the relative error, and
#   against PyTorch's autograd.
#
# **Practice:** the exercise [03-mlp-numpy](exercises/03-mlp-numpy.ipynb): write the
# forward and backward pass of an MLP in NumPy and check it with finite differences.
#
# **Next:** [04-numpy-implementation.ipynb](04-numpy-implementation.ipynb) turns this
# code into reusable layers and trains a real classifier.
