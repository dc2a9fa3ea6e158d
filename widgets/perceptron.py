"""The perceptron: Rosenblatt's learning rule and a model to drive from code.

Two layers here, a third in its own files:

* :func:`perceptron_update` — one step of the learning rule, a pure function
  (lesson 1 shows it; exercise 1's checks compare students' versions against it);
* :class:`Perceptron` — the model: data, weights, one method per button of the
  playground (``step``, ``epoch``, ``reset``, ``set_weights``) and the bookkeeping that
  says whether training has converged, cycles, or hit its epoch cap;
* the views, which only read the model: :class:`~widgets.perceptron_plot.PerceptronPlot`
  (matplotlib artists for any axes) and
  :class:`~widgets.perceptron_widget.PerceptronPlayground` (a thin ipywidgets layer).

No matplotlib, no ipywidgets: the model is plain NumPy.

The class is the step function's output: ``ŷ = step(w·x + b)`` with ``step(0) = 1``.
The activation chosen in the playground changes the neuron's *output* ``f(w·x + b)``
(drawn as the shading), never the learning rule: that is the perceptron's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from widgets.activations import ACTIVATIONS, step

# Features beyond this size swamp the bias and make the plot unreadable; the message
# tells the student to rescale, instead of letting w·x overflow or the picture go blank.
MAX_ABS_FEATURE = 1e6
MAX_ABS_WEIGHT = 1e6


# --------------------------------------------------------------------------- the rule
def perceptron_update(weights, bias, x, target, lr):
    """One step of Rosenblatt's rule on one sample; returns ``(new_weights, new_bias)``.

    The prediction is ŷ = step(w·x + b), which is 1 when w·x + b >= 0 and 0 otherwise.
    The update is Δw = η (y − ŷ) x and Δb = η (y − ŷ): nothing changes when the
    prediction is right; when it is wrong, the boundary moves towards classifying
    ``x`` correctly. The inputs are not modified.
    """
    weights = np.asarray(weights, dtype=float)
    x = np.asarray(x, dtype=float)
    if weights.shape != x.shape or weights.ndim != 1:
        raise ValueError(
            f"weights {weights.shape} and x {x.shape} must be 1-D arrays of the same "
            "length: one weight per feature"
        )
    if target not in (0, 1):
        raise ValueError(f"target must be 0 or 1 (the step function's outputs), not {target!r}")
    prediction = float(step(weights @ x + bias))
    error = target - prediction  # 0 when right, +1 or -1 when wrong
    return weights + lr * error * x, float(bias + lr * error)


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class StepRecord:
    """What one ``Perceptron.step()`` saw and did (the numbers the playground prints)."""

    epoch: int  # 1 for the first pass over the data
    index: int  # row of the sample in X
    x: np.ndarray
    target: int
    z: float  # w·x + b, before the update
    prediction: int  # step(z)
    output: float  # the chosen activation's f(z)
    delta_weights: np.ndarray
    delta_bias: float

    @property
    def mistake(self) -> bool:
        return self.prediction != self.target


@dataclass(frozen=True)
class TrainingStatus:
    """Where training stands. ``state`` is one of ``STATES``; ``message`` says it in words."""

    state: str
    errors: int  # misclassified samples with the current weights
    accuracy: float
    epochs: int  # full passes over the data completed
    steps: int
    message: str
    cycle: tuple[int, int] | None = None  # (epoch, earlier epoch) that began with equal weights


STATES = ("training", "converged", "cycling", "epoch cap")


# --------------------------------------------------------------------------- validation
def check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    try:
        X = np.asarray(X, dtype=float)
        y_raw = np.asarray(y)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X and y must be numeric arrays ({error})") from None
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(
            f"X must have shape (n_samples, 2), one row per point with two features "
            f"(the playground draws a plane); got shape {X.shape}"
        )
    if y_raw.shape != (len(X),):
        raise ValueError(f"y must be 1-D with one label per row of X ({len(X)}), got {y_raw.shape}")
    bad_rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad_rows.size:
        raise ValueError(
            f"X has NaN or infinite values in rows {bad_rows[:5].tolist()}"
            f"{' ...' if bad_rows.size > 5 else ''}: drop or fill those rows first"
        )
    largest = float(np.abs(X).max())
    if largest > MAX_ABS_FEATURE:
        raise ValueError(
            f"X has values as large as {largest:.3g}; features this large swamp the bias and "
            f"overflow w·x. Rescale them first, e.g. X = (X - X.mean(0)) / X.std(0)"
        )
    labels = set(np.unique(y_raw).tolist())
    if not labels <= {0, 1}:
        hint = " (labels -1/+1? use (y + 1) // 2)" if labels <= {-1, 1} else ""
        raise ValueError(
            f"y must hold the classes 0 and 1 (the step function's outputs){hint}; "
            f"got {sorted(labels)[:6]}"
        )
    return X, y_raw.astype(np.int64)


def _check_number(name: str, value, *, positive: bool = False, limit: float = MAX_ABS_WEIGHT):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not np.isfinite(number) or abs(number) > limit:
        raise ValueError(f"{name} must be a finite number within ±{limit:g}, not {value!r}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return number


def _check_epochs(name: str, value) -> int:
    """A whole number of epochs, at least 1 (``3`` or ``3.0``; not NaN, 2.5 or "3")."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a whole number of epochs, not {value!r}")
    if not np.isfinite(value) or value != int(value) or value < 1:
        raise ValueError(f"{name} must be a whole number of epochs, at least 1, not {value!r}")
    return int(value)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --------------------------------------------------------------------------- the model
class Perceptron:
    """A single perceptron on 2-D data, trained one sample at a time in a fixed order.

    Every playground button is a method: ``step()`` (one sample), ``epoch()`` (to the
    end of the current pass), ``reset()`` and ``set_weights(w1, w2, b)``. ``status``
    says whether the weights separate the data ("converged"), came back to where an
    earlier epoch began ("cycling": with a fixed order the rule will loop for ever, so
    the data is not linearly separable), or ran ``max_epochs`` without either.
    """

    def __init__(
        self,
        X,
        y,
        *,
        lr: float = 1.0,
        weights=(0.0, 0.0),
        bias: float = 0.0,
        activation: str = "step",
        max_epochs: int = 100,
    ):
        self.X, self.y = check_data(X, y)
        self.lr = lr
        self.activation = activation
        self.max_epochs = _check_epochs("max_epochs", max_epochs)
        try:
            w1, w2 = weights
        except (TypeError, ValueError):
            raise ValueError(
                f"weights must be two numbers (w1, w2), one per feature; got {weights!r}"
            ) from None
        self.set_weights(w1, w2, bias)

    # ---- settings
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _check_number("lr", value, positive=True, limit=1e3)
        # Cycle detection compares whole epochs run with the same rule.
        self._epoch_start_keys = {}

    @property
    def activation(self) -> str:
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
        self._activation = name

    def set_data(self, X, y) -> None:
        """New data: start a fresh run from the weights the current run started from."""
        self.X, self.y = check_data(X, y)
        self.reset()

    def set_weights(self, w1: float, w2: float, b: float) -> None:
        """Put the boundary where you want it; training restarts from here."""
        values = [_check_number(name, value) for name, value in (("w1", w1), ("w2", w2), ("b", b))]
        self.start_weights = np.array(values[:2])
        self.start_bias = values[2]
        self.reset()

    def reset(self) -> None:
        """Back to the weights this run started from; forget the training so far."""
        self.weights = self.start_weights.copy()
        self.bias = self.start_bias
        self.position = 0  # the sample step() visits next
        self.epochs = 0  # full passes completed
        self.steps = 0
        self.last_step: StepRecord | None = None
        self.mistakes_per_epoch: list[int] = []
        self.epoch_start_weights = [self.parameters()]  # (w1, w2, b) when each epoch began
        self._mistakes_this_epoch = 0
        self._epoch_start_keys = {self._cycle_key(): 0}
        self.cycle: tuple[int, int] | None = None

    # ---- predictions
    def decision_function(self, X=None) -> np.ndarray:
        """z = w·x + b for each row (the signed distance to the boundary times ‖w‖)."""
        X = self.X if X is None else np.asarray(X, dtype=float)
        return X @ self.weights + self.bias

    def predict(self, X=None) -> np.ndarray:
        """The class of each row: step(w·x + b) as 0/1 integers (the training data by default)."""
        return step(self.decision_function(X)).astype(np.int64)

    def output(self, X=None) -> np.ndarray:
        """The neuron's output f(w·x + b) with the chosen activation f."""
        return ACTIVATIONS[self.activation][0](self.decision_function(X))

    def errors(self) -> int:
        return int(np.sum(self.predict() != self.y))

    # ---- training: one method per button
    def step(self) -> StepRecord:
        """Show the next sample to the rule and update the weights; return what happened."""
        index = self.position
        x, target = self.X[index], int(self.y[index])
        z = float(x @ self.weights + self.bias)
        new_weights, new_bias = perceptron_update(
            self.weights, self.bias, x, target, self.lr
        )
        record = StepRecord(
            epoch=self.epochs + 1,
            index=index,
            x=x.copy(),
            target=target,
            z=z,
            prediction=int(step(z)),
            output=float(ACTIVATIONS[self.activation][0](z)),
            delta_weights=new_weights - self.weights,
            delta_bias=new_bias - self.bias,
        )
        self.weights, self.bias = new_weights, new_bias
        self.steps += 1
        self._mistakes_this_epoch += record.mistake
        self.last_step = record
        self.position += 1
        if self.position == len(self.X):
            self._finish_epoch()
        return record

    def epoch(self) -> list[StepRecord]:
        """Run the samples left in the current pass (a whole pass when at its start)."""
        records = [self.step()]
        while self.position != 0:
            records.append(self.step())
        return records

    def train(self, max_epochs: int | None = None) -> TrainingStatus:
        """Run whole epochs until converged, cycling or ``max_epochs`` (default: the cap)."""
        limit = self.max_epochs if max_epochs is None else _check_epochs("max_epochs", max_epochs)
        if self.position != 0:
            self.epoch()
        while self.status.state == "training" and self.epochs < limit:
            self.epoch()
        return self.status

    def parameters(self) -> tuple[float, float, float]:
        """(w1, w2, b) as plain floats: what the playground shows and the lesson prints."""
        return (float(self.weights[0]), float(self.weights[1]), float(self.bias))

    def _cycle_key(self) -> tuple[float, ...]:
        # In units of η every update is a sum of ±x, so rounding there ignores the last
        # bits that float addition leaves behind without merging genuinely different weights.
        scaled = np.array(self.parameters()) / self.lr
        return tuple(np.round(scaled, 6) + 0.0)

    def _finish_epoch(self) -> None:
        self.position = 0
        self.epochs += 1
        self.mistakes_per_epoch.append(self._mistakes_this_epoch)
        self._mistakes_this_epoch = 0
        self.epoch_start_weights.append(self.parameters())
        key = self._cycle_key()
        earlier = self._epoch_start_keys.get(key)
        # Same weights at the start of two epochs, fixed sample order: the rule repeats
        # those epochs for ever. With mistakes in between, zero errors is never reached.
        if earlier is not None and self.cycle is None and any(self.mistakes_per_epoch[earlier:]):
            self.cycle = (self.epochs, earlier)
        self._epoch_start_keys.setdefault(key, self.epochs)

    # ---- status
    @property
    def converged(self) -> bool:
        return self.errors() == 0

    @property
    def status(self) -> TrainingStatus:
        errors = self.errors()
        n = len(self.X)
        common = dict(errors=errors, accuracy=1 - errors / n, epochs=self.epochs, steps=self.steps)
        if errors == 0:
            if self.steps == 0:
                message = "converged: these weights already separate the classes (zero errors)"
            else:
                message = (
                    f"converged: zero errors after {_count(self.steps, 'step')} "
                    f"({_count(self.epochs, 'full epoch')})"
                )
            return TrainingStatus("converged", message=message, **common)
        if self.cycle is not None:
            now, earlier = self.cycle
            w1, w2, b = self.epoch_start_weights[now]
            message = (
                f"cycling: epoch {now + 1} starts with the same weights as epoch {earlier + 1} "
                f"(w1={w1:.3g}, w2={w2:.3g}, b={b:.3g}), so the rule repeats itself for ever and "
                f"never reaches zero errors. No straight line separates these classes: a single "
                f"perceptron cannot solve them (a hidden layer can, lesson 2)."
            )
            return TrainingStatus("cycling", message=message, cycle=self.cycle, **common)
        if self.epochs >= self.max_epochs:
            message = (
                f"epoch cap: still {_count(errors, 'error')} after {_count(self.epochs, 'epoch')}. "
                f"The classes are "
                f"probably not linearly separable, so no line can get them all right; a single "
                f"perceptron then never settles."
            )
            return TrainingStatus("epoch cap", message=message, **common)
        return TrainingStatus(
            "training", message=f"training: {errors} of {n} misclassified", **common
        )
