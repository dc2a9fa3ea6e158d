"""A tiny multilayer perceptron made of autodiff ``Value`` s, for the backprop stepper.

:func:`scalar_network` builds ``L = mean((ŷ − y)²)`` for one example, unit by unit, with
the lessons' names (layer numbers as superscripts, unit numbers as subscripts), so
that the stepper can draw neurons and step layer by layer. A model: no display code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from widgets.autodiff import Value
from widgets.backprop_tape import subscript, superscript


@dataclass
class ScalarNetwork:
    """A multilayer perceptron made of ``Value`` s, for one example and an MSE loss.

    ``weights[l][j][k]`` connects unit k of layer l to unit j of layer l+1 (``W`` of the
    lessons, shape (n_out, n_in)); ``z[l][j]`` and ``a[l][j]`` are unit j's
    pre-activation and activation in layer l+1; ``a[-1]`` is the output ŷ.
    """

    inputs: list[Value]
    weights: list[list[list[Value]]]
    biases: list[list[Value]]
    z: list[list[Value]]
    a: list[list[Value]]
    targets: list[float]
    loss: Value
    activation: str

    @property
    def parameters(self) -> list[Value]:
        return [w for layer in self.weights for row in layer for w in row] + [
            b for layer in self.biases for b in layer
        ]


def scalar_network(
    x: Sequence[float],
    target: Sequence[float] | float,
    weights: Sequence,
    biases: Sequence,
    *,
    activation: str = "sigmoid",
) -> ScalarNetwork:
    """Build ``L = mean((ŷ − y)²)`` for one example through layers ``z = W a + b, a = act(z)``.

    ``weights`` and ``biases`` are nested lists (or NumPy arrays) per layer, shaped like the
    lessons' ``W`` (n_out, n_in) and ``b`` (n_out,). Every layer, the output included,
    uses ``activation`` ("sigmoid", "tanh" or "relu"). Names follow the lessons: layer
    numbers as superscripts, unit numbers (from 1) as subscripts.
    """
    if activation not in ("sigmoid", "tanh", "relu"):
        raise ValueError(f"activation must be 'sigmoid', 'tanh' or 'relu', got {activation!r}")
    targets = [float(t) for t in (target if isinstance(target, Sequence) else [target])]
    if len(weights) != len(biases) or not weights:
        raise ValueError("give one weight matrix and one bias vector per layer")
    inputs = [Value(v, f"x{subscript(k + 1)}", stage=1) for k, v in enumerate(x)]
    activations = inputs
    all_w, all_b, all_z, all_a = [], [], [], []
    for layer_number, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
        W = [[float(w) for w in row] for row in W]
        b = [float(v) for v in b]
        if any(len(row) != len(activations) for row in W) or len(b) != len(W):
            raise ValueError(
                f"layer {layer_number}: W must be ({len(b)}, {len(activations)}) to match "
                f"{len(activations)} inputs and {len(b)} biases, got rows of length "
                f"{[len(row) for row in W]}"
            )
        stage, sup = layer_number, superscript(layer_number)
        w_values = [
            [
                Value(w, f"w{sup}{subscript(j + 1)}{subscript(k + 1)}", parameter=True, stage=stage)
                for k, w in enumerate(row)
            ]
            for j, row in enumerate(W)
        ]
        b_values = [
            Value(v, f"b{sup}{subscript(j + 1)}", parameter=True, stage=stage)
            for j, v in enumerate(b)
        ]
        z_values, a_values = [], []
        for j, row in enumerate(w_values):
            total = None
            for k, (w, a_in) in enumerate(zip(row, activations, strict=True)):
                product = (w * a_in).named(f"{w.label}·{a_in.label}", stage)
                if total is None:
                    total = product
                else:
                    total = (total + product).named(
                        f"Σ{sup}{subscript(j + 1)}{subscript(k + 1)}", stage
                    )
            z = (total + b_values[j]).named(f"z{sup}{subscript(j + 1)}", stage)
            a = getattr(z, activation)().named(f"a{sup}{subscript(j + 1)}", stage)
            z_values.append(z)
            a_values.append(a)
        all_w.append(w_values)
        all_b.append(b_values)
        all_z.append(z_values)
        all_a.append(a_values)
        activations = a_values
    if len(targets) != len(activations):
        raise ValueError(f"the network has {len(activations)} outputs but {len(targets)} targets")
    loss_stage = len(weights) + 1
    squared = []
    for j, (prediction, y) in enumerate(zip(activations, targets, strict=True)):
        target = Value(y, f"y{subscript(j + 1)}", stage=loss_stage)
        # ŷ − y is ŷ + y·(−1) in the engine; naming the negation keeps it in the loss stage.
        negated = (-target).named(f"−y{subscript(j + 1)}", loss_stage)
        error = (prediction + negated).named(f"e{subscript(j + 1)}", loss_stage)
        squared.append((error**2).named(f"e{subscript(j + 1)}²", loss_stage))
    total = squared[0]
    for term in squared[1:]:
        total = (total + term).named("Σe²", loss_stage)
    loss = (
        (total / len(squared)).named("L", loss_stage)
        if len(squared) > 1
        else total.named("L", loss_stage)
    )
    return ScalarNetwork(inputs, all_w, all_b, all_z, all_a, targets, loss, activation)
