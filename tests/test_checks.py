"""The exercise checks: each accepts the reference and rejects plausible wrong answers.

A wrong answer here is code a student could write; the test asserts that the check
fails *and* that its message points at the mistake (not just "wrong value").
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from torch import nn

from widgets.activations import sigmoid
from widgets.checks import (
    FAILED,
    NOT_DONE,
    PASSED,
    Checker,
    Hints,
    Mistake,
    compare,
    explain_exception,
)
from widgets.checks import ex01_perceptron as ex01
from widgets.checks import ex02_by_hand as ex02
from widgets.checks import ex03_mlp_numpy as ex03
from widgets.checks import ex04_regularisation as ex04
from widgets.checks import ex05_pytorch_mnist as ex05
from widgets.checks import ex06_advanced_pytorch as ex06


def assert_fails(report, *phrases):
    assert report.status == FAILED, report.text
    assert report.text.startswith("✗"), report.text
    for phrase in phrases:
        assert phrase in report.text, f"{phrase!r} not in:\n{report.text}"


def assert_passes(report):
    assert report.status == PASSED and report.passed, report.text
    assert report.text.startswith("✓"), report.text


# --------------------------------------------------------------------------- machinery
def test_compare_explains_shapes_and_values():
    assert compare(np.ones(3), np.ones(3), what="x") is None
    assert "forget the `return`" in compare(None, np.ones(3), what="x")
    assert "transposed" in compare(np.ones((3, 2)), np.ones((2, 3)), what="W")
    assert "reshape(-1, 1)" in compare(np.ones(4), np.ones((4, 1)), what="y")
    assert "sum (or average) over the batch" in compare(np.ones((5, 3)), np.ones(3), what="db")
    assert "outer product" in compare(np.ones((3, 3)), np.ones(3), what="w")
    assert "contains NaN" in compare(np.array([1.0, np.nan]), np.ones(2), what="loss")
    assert "contains inf" in compare(np.array([1.0, np.inf]), np.ones(2), what="loss")
    assert "sign is flipped" in compare(-np.arange(1.0, 4), np.arange(1.0, 4), what="g")
    assert "0.5 times" in compare(np.arange(1.0, 4) / 2, np.arange(1.0, 4), what="g")
    explained = compare(np.zeros(2), np.ones(2), what="g", mistakes=[Mistake([0, 0], "why")])
    assert explained.endswith("→ why")


def test_checker_reports_not_done_and_student_exceptions(capsys):
    def unfinished(x):
        raise NotImplementedError("Task 7: something")

    def crashes(x):
        return np.ones((2, 3)) @ x

    with Checker("Task 7 · demo") as check:
        check.call(unfinished, 1)
    assert check.report.status == NOT_DONE
    assert "not done yet" in capsys.readouterr().out

    with Checker("Task 7 · demo") as check:
        check.call(crashes, np.ones(4), case="a vector of 4")
    text = check.report.text
    assert check.report.status == FAILED
    assert 'case "a vector of 4"' in text and "ValueError" in text
    assert "a shape error" in text and "x shape (4,)" in text  # the arguments are named
    assert "return np.ones((2, 3)) @ x" in text  # the student's own line
    assert "Traceback" not in text


def test_checker_names_a_missing_earlier_task():
    def needs_task_3(x):
        raise NotImplementedError("Task 3: backpropagation")

    with Checker("Task 5 · agreement", show=False) as check:
        check.call(needs_task_3, 1)
    assert "it needs Task 3: backpropagation" in check.report.text


def test_checker_rejects_a_called_function_and_in_place_changes():
    with Checker("Task 1 · f", show=False) as check:
        check.call(3.0)
    assert "without calling it" in check.report.text

    def in_place(weights):
        weights += 1
        return weights

    with Checker("Task 1 · f", show=False) as check:
        check.call_unchanged(in_place, np.zeros(2))
    assert "in place" in check.report.text


def test_explain_exception_without_shape_words_stays_short():
    text = explain_exception(KeyError("W3"))
    assert text.startswith("your function raised KeyError")
    assert "shape" not in text


def test_hints_progress_and_jump(capsys):
    hints = Hints({1: ["first", "second"]})
    hints(1)
    hints(1)
    hints(1)  # stays on the last one
    out = capsys.readouterr().out.splitlines()
    assert "hint 1 of 2: first" in out[0] and "run again" in out[0]
    assert "hint 2 of 2: second" in out[1] and "hint 2 of 2" in out[2]
    with pytest.raises(ValueError, match="tasks with hints: 1"):
        hints.text(2, 1)


def test_hint_button_reveals_one_hint_per_click():
    button = Hints({4: ["first hint", "second hint"]}).button(4)
    assert button.button.description == "Show hint 1 of 2"
    button.button.click()
    assert "first hint" in button.shown.value and "second" not in button.shown.value
    button.button.click()
    assert button.button.disabled and "second hint" in button.shown.value
    assert "check.hint(4)" in button._repr_mimebundle_()["text/plain"]


# --------------------------------------------------------------------------- exercise 1
def predict_reference(weights, bias, x):
    return 1 if weights @ x + bias >= 0 else -1


def update_reference(weights, bias, x, target, lr):
    if predict_reference(weights, bias, x) == target:
        return weights.copy(), bias
    return weights + lr * target * x, bias + lr * target


def train_reference(X, y, lr=1.0, epochs=100):
    weights, bias = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        mistakes = 0
        for x, target in zip(X, y, strict=True):
            mistakes += predict_reference(weights, bias, x) != target
            weights, bias = update_reference(weights, bias, x, target, lr)
        if not mistakes:
            break
    return weights, bias


def test_ex01_accepts_the_reference():
    assert_passes(ex01.predict(predict_reference))
    assert_passes(ex01.perceptron_update(update_reference))
    assert_passes(ex01.train_perceptron(train_reference))
    assert_passes(ex01.xor(train_reference))


def test_ex01_predict_rejects_wrong_threshold_raw_z_and_zero_one_classes():
    assert_fails(ex01.predict(lambda w, b, x: 1 if w @ x + b > 0 else -1), "belongs to class +1")
    assert_fails(ex01.predict(lambda w, b, x: w @ x + b), "this is z = w·x + b itself")
    assert_fails(ex01.predict(lambda w, b, x: 1 if w @ x + b >= 0 else 0), "0/1 class")


def test_ex01_update_rejects_plausible_mistakes():
    def wrong_sign(weights, bias, x, target, rate):
        new_weights, new_bias = update_reference(weights, bias, x, target, rate)
        return 2 * weights - new_weights, 2 * bias - new_bias

    def frozen_bias(weights, bias, x, target, rate):
        return update_reference(weights, bias, x, target, rate)[0], bias

    def always_updates(weights, bias, x, target, rate):
        return weights + rate * target * x, bias + rate * target

    def zero_one_rule(weights, bias, x, target, rate):
        error = target - predict_reference(weights, bias, x)
        return weights + rate * error * x, bias + rate * error

    def in_place(weights, bias, x, target, rate):
        if predict_reference(weights, bias, x) != target:
            weights += rate * target * x
        return weights, bias + rate * target

    assert_fails(ex01.perceptron_update(wrong_sign), "the wrong way")
    assert_fails(ex01.perceptron_update(frozen_bias), "the bias did not change")
    assert_fails(ex01.perceptron_update(always_updates), "although the prediction was right")
    assert_fails(ex01.perceptron_update(zero_one_rule), "twice too large")
    assert_fails(ex01.perceptron_update(in_place), "in place")


def test_ex01_train_rejects_one_epoch_and_shuffling():
    def one_epoch(X, y, lr=1.0, epochs=100):
        return train_reference(X, y, lr, epochs=1)

    def shuffled(X, y, lr=1.0, epochs=100):
        order = np.random.default_rng(1).permutation(len(y))
        return train_reference(X[order], y[order], lr, epochs)

    assert_fails(ex01.train_perceptron(one_epoch), "still misclassified", "several epochs")
    assert_fails(ex01.train_perceptron(shuffled), "no shuffling")


# --------------------------------------------------------------------------- exercise 2
def neuron_reference(w, b, x, t):
    y = sigmoid(w * x + b)
    return 2 * (y - t) * y * (1 - y) * x, 2 * (y - t) * y * (1 - y)


def forward_reference(x, W1, b1, W2, b2):
    z1 = W1 @ x + b1
    h = sigmoid(z1)
    z2 = W2 @ h + b2
    return z1, h, z2, sigmoid(z2)


def backward_reference(x, t, W1, b1, W2, b2, hidden_derivative=True):
    _, h, _, y = forward_reference(x, W1, b1, W2, b2)
    delta2 = 2 * (y - t) * y * (1 - y)
    delta1 = W2.T @ delta2 * (h * (1 - h) if hidden_derivative else 1)
    return np.outer(delta1, x), delta1, np.outer(delta2, h), delta2


def test_ex02_accepts_the_reference():
    assert_passes(ex02.single_neuron_gradients(neuron_reference))
    assert_passes(ex02.forward(forward_reference))
    assert_passes(ex02.backward(backward_reference))
    assert_passes(ex02.directional_derivative(directional_reference))
    assert_passes(ex02.gradients_agree(backward_reference, directional_reference))


def test_ex02_neuron_rejects_missing_sigmoid_derivative_and_missing_x():
    assert_fails(
        ex02.single_neuron_gradients(
            lambda w, b, x, t: (2 * (sigmoid(w * x + b) - t) * x, 2 * (sigmoid(w * x + b) - t))
        ),
        "σ'(z) = ŷ(1 − ŷ) is missing",
    )
    assert_fails(
        ex02.single_neuron_gradients(lambda w, b, x, t: (neuron_reference(w, b, x, t)[1],) * 2),
        "dz/dw = x",
    )


def test_ex02_forward_rejects_transposed_weights_and_missing_bias():
    def transposed(x, W1, b1, W2, b2):
        return forward_reference(x, W1.T, b1, W2, b2)

    def no_bias(x, W1, b1, W2, b2):
        return forward_reference(x, W1, 0 * b1, W2, b2)

    assert_fails(ex02.forward(transposed), "Task 2 · forward")  # square W1 first: values
    assert_fails(ex02.forward(no_bias), "the bias b1 is missing")


def test_ex02_forward_explains_a_shape_error_for_transposed_weights():
    def transposed(x, W1, b1, W2, b2):
        return forward_reference(x, W1.T, b1, W2, b2)

    report = ex02.forward(
        lambda x, W1, b1, W2, b2: (
            transposed(x, W1, b1, W2, b2)
            if W1.shape[0] != W1.shape[1]
            else forward_reference(x, W1, b1, W2, b2)
        )
    )
    assert_fails(report, "a shape error", "W1 shape (3, 2)")


def test_ex02_backward_rejects_missing_hidden_derivative_and_transposed_gradient():
    assert_fails(
        ex02.backward(lambda *args: backward_reference(*args, hidden_derivative=False)), "h(1 − h)"
    )

    def transposed_dW1(*args):
        dW1, db1, dW2, db2 = backward_reference(*args)
        return np.outer(args[0], db1), db1, dW2, db2

    assert_fails(ex02.backward(transposed_dW1), "dW1")


def directional_reference(loss, parameter, direction, epsilon=1e-6):
    saved = parameter.copy()
    parameter[...] = saved + epsilon * direction
    above = loss()
    parameter[...] = saved - epsilon * direction
    below = loss()
    parameter[...] = saved
    return (above - below) / (2 * epsilon)


def test_ex02_directional_rejects_one_sided_difference_and_unrestored_parameter():
    def one_sided(loss, parameter, direction, epsilon=1e-6):
        saved, base = parameter.copy(), loss()
        parameter[...] = saved + epsilon * direction
        above = loss()
        parameter[...] = saved
        return (above - base) / epsilon

    def not_restored(loss, parameter, direction, epsilon=1e-6):
        parameter += epsilon * direction
        plus = loss()
        parameter -= 2 * epsilon * direction
        return (plus - loss()) / (2 * epsilon)

    def halved(loss, parameter, direction, epsilon=1e-6):
        return 2 * directional_reference(loss, parameter, direction, epsilon)

    assert_fails(ex02.directional_derivative(one_sided), "one-sided difference")
    assert_fails(ex02.directional_derivative(not_restored), "not restored")
    assert_fails(ex02.directional_derivative(halved), "2ε apart")


def test_ex02_agreement_names_the_wrong_gradient():
    def wrong_db1(*args):
        dW1, db1, dW2, db2 = backward_reference(*args)
        return dW1, 2 * db1, dW2, db2

    assert_fails(ex02.gradients_agree(wrong_db1, directional_reference), "b1", "backward()")


# --------------------------------------------------------------------------- exercise 3
def dense_forward_reference(A, W, b):
    if A.shape[-1] != W.shape[1] or b.shape != (W.shape[0],):
        raise ValueError(f"A {A.shape}, W {W.shape} and b {b.shape} do not fit")
    return A @ W.T + b


def test_ex03_forward_wants_a_value_error_that_shows_the_shapes():
    def unchecked(A, W, b):  # NumPy's own errors name no shape
        return A @ W.T + b

    def vague(A, W, b):
        if A.shape[-1] != W.shape[1] or b.shape != (W.shape[0],):
            raise ValueError("shapes do not match")
        return A @ W.T + b

    def wrong_exception(A, W, b):
        if A.shape[-1] != W.shape[1] or b.shape != (W.shape[0],):
            raise TypeError(f"A {A.shape}, W {W.shape}, b {b.shape}")
        return A @ W.T + b

    assert_fails(ex03.dense_forward(unchecked), "should show the shapes of A_prev, W and b")
    assert_fails(ex03.dense_forward(vague), "shapes do not match", "(5, 3), (4, 2) and (4,)")
    assert_fails(ex03.dense_forward(wrong_exception), "TypeError")


def dense_backward_reference(delta, A, W):
    rows, inputs = delta.reshape(-1, delta.shape[-1]), A.reshape(-1, A.shape[-1])
    return rows.T @ inputs, rows.sum(axis=0), delta @ W


def softmax_ce_reference(logits, labels, smoothing=0.0, shift=True, average=True, spread=None):
    n, classes = logits.shape
    target = np.full((n, classes), smoothing / (spread or classes))
    target[np.arange(n), labels] = 1 - smoothing + (0 if spread else smoothing / classes)
    shifted = logits - logits.max(axis=1, keepdims=True) if shift else logits
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    loss = -(target * log_p).sum() / n
    return loss, (p - target) / n if average else p - target


def make_trainer(sign=1.0, tanh_derivative=True):
    def train(X, y, n_hidden=50, lr=1.0, epochs=2000, seed=0):
        rng = np.random.default_rng(seed)
        W1, W2 = rng.normal(0, 0.7, (n_hidden, 2)), rng.normal(0, 0.14, (3, n_hidden))
        b1, b2 = np.zeros(n_hidden), np.zeros(3)
        losses = []
        for _ in range(epochs):
            A1 = np.tanh(dense_forward_reference(X, W1, b1))
            loss, delta2 = softmax_ce_reference(dense_forward_reference(A1, W2, b2), y)
            dW2, db2, dA1 = dense_backward_reference(delta2, A1, W2)
            delta1 = dA1 * (1 - A1**2) if tanh_derivative else dA1
            dW1, db1, _ = dense_backward_reference(delta1, X, W1)
            for parameter, gradient in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
                parameter -= sign * lr * gradient
            losses.append(loss)
        return (W1, b1, W2, b2), losses

    return train


def test_ex03_accepts_the_reference():
    assert_passes(ex03.dense_forward(dense_forward_reference))
    assert_passes(ex03.dense_backward(dense_backward_reference))
    assert_passes(ex03.softmax_cross_entropy(softmax_ce_reference))
    assert_passes(ex03.train_network(make_trainer()))


def test_ex03_forward_rejects_untransposed_weights_and_missing_bias():
    assert_fails(ex03.dense_forward(lambda A, W, b: A @ W + b), "a shape error", "W shape")
    assert_fails(ex03.dense_forward(lambda A, W, b: A @ W.T), "the bias b is missing")


def test_ex03_backward_rejects_unsummed_bias_gradient_transposed_dW_and_2d_only_sums():
    assert_fails(
        ex03.dense_backward(lambda d, A, W: (d.T @ A, d, d @ W)),
        "db: expected shape",
        "sum (or average) over the batch",
    )
    assert_fails(
        ex03.dense_backward(lambda d, A, W: (A.T @ d, d.sum(0), d @ W)),
        "dW: expected shape",
        "transposed",
    )
    assert_fails(
        ex03.dense_backward(
            lambda d, A, W: (
                *dense_backward_reference(d, A, W)[:1],
                dense_backward_reference(d, A, W)[1] / len(d),
                d @ W,
            )
        ),
        "the mean over examples",
    )

    def sums_first_axis_only(d, A, W):
        dW = dense_backward_reference(d, A, W)[0]
        return dW, d.sum(axis=0), d @ W

    assert_fails(ex03.dense_backward(sums_first_axis_only), "extra leading dimension")


def test_ex03_loss_rejects_unshifted_exponentials_ignored_smoothing_and_missing_average():
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        assert_fails(
            ex03.softmax_cross_entropy(lambda z, y, e: softmax_ce_reference(z, y, e, shift=False)),
            "contains NaN",
        )
    assert_fails(
        ex03.softmax_cross_entropy(lambda z, y, e: softmax_ce_reference(z, y, e, average=False)),
        "divided by the number",
    )
    assert_fails(
        ex03.softmax_cross_entropy(lambda z, y, e: softmax_ce_reference(z, y, 0.0)),
        "smoothing was ignored",
    )
    assert_fails(
        ex03.softmax_cross_entropy(
            lambda z, y, e: softmax_ce_reference(z, y, e, spread=z.shape[1] - 1)
        ),
        "K − 1 wrong classes",
    )


def test_ex03_training_rejects_gradient_ascent_and_missing_tanh_derivative():
    with np.errstate(all="ignore"):
        assert_fails(ex03.train_network(make_trainer(sign=-1.0)), "*down* the gradient")
    assert_fails(
        ex03.train_network(make_trainer(tanh_derivative=False)), "test accuracy", "1 − tanh²"
    )


# --------------------------------------------------------------------------- exercise 5
def mlp_builder():
    return nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def train_loop_reference(
    model, loader, loss_fn, optimizer, accumulate=1, zero_grad=True, train_mode=True
):
    if train_mode:
        model.train()
    batches = list(loader)
    total, correct, seen = 0.0, 0, 0
    for number, (inputs, targets) in enumerate(batches, start=1):
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        (loss / accumulate).backward()
        if number % accumulate == 0 or number == len(batches):
            optimizer.step()
            if zero_grad:
                optimizer.zero_grad()
        total += loss.item() * len(targets)
        correct += (outputs.argmax(1) == targets).sum().item()
        seen += len(targets)
    return total / seen, correct / seen


def confusion_reference(model, loader, n_classes, eval_mode=True):
    if eval_mode:
        model.eval()
    table = torch.zeros(n_classes, n_classes, dtype=torch.long)
    with torch.no_grad():
        for x, y in loader:
            for true, predicted in zip(y.tolist(), model(x).argmax(1).tolist(), strict=True):
                table[true, predicted] += 1
    return table


def test_ex05_accepts_the_reference():
    assert_passes(ex05.build_model(mlp_builder))
    assert_passes(ex05.train_one_epoch(train_loop_reference))
    assert_passes(ex05.confusion_matrix(confusion_reference))


def test_ex05_model_rejects_a_final_softmax_missing_activation_nan_and_float64():
    assert_fails(
        ex05.build_model(lambda: nn.Sequential(mlp_builder(), nn.Softmax(dim=1))),
        "remove the final softmax",
    )
    assert_fails(
        ex05.build_model(lambda: nn.Sequential(nn.Linear(784, 32), nn.Linear(32, 10))),
        "no activation",
    )
    assert_fails(
        ex05.build_model(lambda: nn.Sequential(nn.Linear(784, 10), nn.ReLU(), nn.Linear(10, 1))),
        "(7, 10)",
    )
    assert_fails(ex05.build_model(lambda: mlp_builder().double()), "torch.float64")


def test_ex05_training_rejects_missing_zero_grad_train_mode_and_a_step_per_batch():
    assert_fails(
        ex05.train_one_epoch(lambda *args: train_loop_reference(*args, zero_grad=False)),
        "clear them after each optimizer step",
    )
    assert_fails(
        ex05.train_one_epoch(lambda *args: train_loop_reference(*args, train_mode=False)),
        "training mode",
    )
    assert_fails(
        ex05.train_one_epoch(lambda m, l, f, o, a=1: train_loop_reference(m, l, f, o, 1)),
        "stepped after every batch",
    )


def test_ex05_confusion_rejects_dropout_on_a_transpose_and_fractions():
    assert_fails(
        ex05.confusion_matrix(lambda m, l, n: confusion_reference(m, l, n, eval_mode=False)),
        "evaluation mode",
    )
    assert_fails(ex05.confusion_matrix(lambda m, l, n: confusion_reference(m, l, n).T), "swapped")
    assert_fails(
        ex05.confusion_matrix(lambda m, l, n: confusion_reference(m, l, n) / 70.0), "integer"
    )


def test_ex05_full_training_reports_accuracy_and_not_done(capsys):
    generator = torch.Generator().manual_seed(0)
    centers = 3 * torch.randn(10, 784, generator=generator)
    labels = torch.arange(10).repeat(20)
    images = centers[labels] + torch.randn(200, 784, generator=generator)
    batches = [(images[i : i + 50], labels[i : i + 50]) for i in range(0, 200, 50)]
    loaders = types.SimpleNamespace(train=batches, test=batches)
    report = ex05.full_training(
        mlp_builder, train_loop_reference, confusion_reference, loaders, dataset="mnist"
    )
    assert_passes(report)
    assert report.table.shape == (10, 10) and int(report.table.sum()) == 200

    def unfinished():
        raise NotImplementedError("Task 1: the model")

    report = ex05.full_training(
        unfinished, train_loop_reference, confusion_reference, loaders, dataset="mnist"
    )
    assert report.status == NOT_DONE and "Task 1: the model" in report.text
    never_learns = ex05.full_training(
        mlp_builder, lambda *a: (1.0, 0.1), confusion_reference, loaders, dataset="mnist"
    )
    assert_fails(never_learns, "below 90%")


# --------------------------------------------------------------------------- exercise 4
def gaussian_reference(x, p, rng, training, spread=None):
    if not training:
        return x, np.ones_like(x)
    sigma = np.sqrt(p / (1 - p)) if spread is None else spread(p)
    noise = 1 + sigma * rng.standard_normal(x.shape)
    return x * noise, noise


def l1_reference(params, grads, lr, l1, sign=1.0):
    for param, grad in zip(params, grads, strict=True):
        param -= lr * (grad + sign * l1 * np.sign(param))


def test_ex04_accepts_the_reference():
    assert_passes(ex04.gaussian_dropout_forward(gaussian_reference))
    assert_passes(ex04.gaussian_dropout_backward(lambda grad, noise: grad * noise))
    assert_passes(ex04.sgd_step(l1_reference))
    assert_passes(ex04.regularisation(lambda: {"weight_decay": 1e-2, "dropout": 0.0}))


def test_ex04_gaussian_dropout_rejects_variance_as_spread_global_random_and_eval_noise():
    assert_fails(
        ex04.gaussian_dropout_forward(
            lambda *a: gaussian_reference(*a, spread=lambda p: p / (1 - p))
        ),
        "standard deviation",
    )

    def global_random(x, p, rng, training):
        return gaussian_reference(x, p, np.random.default_rng(), training)

    assert_fails(ex04.gaussian_dropout_forward(global_random), "the noise")

    def noisy_evaluation(x, p, rng, training):
        return gaussian_reference(x, p, rng, True)

    assert_fails(ex04.gaussian_dropout_forward(noisy_evaluation), "in evaluation")


def test_ex04_gaussian_dropout_backward_rejects_ignoring_or_dividing_by_the_noise():
    assert_fails(ex04.gaussian_dropout_backward(lambda grad, noise: grad), "unchanged")
    assert_fails(ex04.gaussian_dropout_backward(lambda grad, noise: grad / noise), "divided")


def test_ex04_sgd_rejects_wrong_sign_new_arrays_touched_gradients_and_l2():
    assert_fails(ex04.sgd_step(lambda *a: l1_reference(*a, sign=-1.0)), "wrong sign")

    def new_arrays(params, grads, lr, l1):
        return [p - lr * (g + l1 * np.sign(p)) for p, g in zip(params, grads, strict=True)]

    def touches_gradients(params, grads, lr, l1):
        for param, grad in zip(params, grads, strict=True):
            grad += l1 * np.sign(param)
            param -= lr * grad

    def l2(params, grads, lr, l1):
        for param, grad in zip(params, grads, strict=True):
            param -= lr * (grad + l1 * param)

    assert_fails(ex04.sgd_step(new_arrays), "in place")
    assert_fails(ex04.sgd_step(touches_gradients), "changed the gradients")
    assert_fails(ex04.sgd_step(l2), "L2 weight decay")


# --------------------------------------------------------------------------- exercise 6
def make_image_dataset(sort_classes=True, scale=True):
    class Images(torch.utils.data.Dataset):
        def __init__(self, root, transform=None):
            folders = sorted(p.name for p in root.iterdir() if p.is_dir())
            # Unsorted: the order the folders were created in, as some file systems list them.
            self.classes = folders if sort_classes else list(ex06._CLASSES)
            self.samples = [
                (path, label)
                for label, name in enumerate(self.classes)
                for path in sorted((root / name).glob("*.png"))
            ]
            self.transform = transform

        def __len__(self):
            return len(self.samples)

        def __getitem__(self, index):
            from PIL import Image

            path, label = self.samples[index]
            image = Image.open(path).convert("L")
            if self.transform is not None:
                return self.transform(image), label
            array = np.asarray(image, dtype=np.float32) / (255 if scale else 1)
            return torch.from_numpy(array)[None], label

    return Images


def save_reference(folder, model, optimizer, epoch, keep=2, with_optimizer=True):
    state = {"model": model.state_dict(), "epoch": epoch}
    if with_optimizer:
        state["optimizer"] = optimizer.state_dict()
    torch.save(state, folder / f"epoch-{epoch:03d}.pt")
    for old in sorted(folder.glob("epoch-*.pt"))[:-keep]:
        old.unlink()


def load_reference(folder, model, optimizer):
    files = sorted(folder.glob("epoch-*.pt"))
    if not files:
        return 0
    state = torch.load(files[-1], weights_only=True)
    model.load_state_dict(state["model"])
    if "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    return state["epoch"]


def warmup_cosine_reference(step, warmup_steps, total_steps, first=1):
    if step < warmup_steps:
        return (step + first) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * (1 + np.cos(np.pi * progress))


def test_ex06_accepts_the_reference():
    assert_passes(ex06.image_dataset(make_image_dataset()))
    assert_passes(ex06.image_dataset_transform(make_image_dataset()))
    assert_passes(ex06.save_checkpoint(save_reference))
    assert_passes(ex06.resume(save_reference, load_reference))
    assert_passes(ex06.warmup_cosine(warmup_cosine_reference))


def test_ex06_dataset_rejects_unsorted_classes_and_unscaled_pixels():
    assert_fails(ex06.image_dataset(make_image_dataset(sort_classes=False)), "*sorted* order")
    assert_fails(ex06.image_dataset(make_image_dataset(scale=False)), "divide by 255")


def test_ex06_checkpoint_rejects_whole_objects_no_rotation_and_a_missing_optimizer():
    def pickles_the_model(folder, model, optimizer, epoch, keep=2):
        torch.save({"model": model, "epoch": epoch}, folder / f"epoch-{epoch:03d}.pt")
        for old in sorted(folder.glob("*.pt"))[:-keep]:
            old.unlink()

    def no_optimizer(folder, model, optimizer, epoch, keep=2):
        save_reference(folder, model, optimizer, epoch, keep, with_optimizer=False)

    def keeps_everything(folder, model, optimizer, epoch, keep=2):
        save_reference(folder, model, optimizer, epoch, keep=1000)

    def unpadded(folder, model, optimizer, epoch, keep=2):
        torch.save({"model": model.state_dict()}, folder / f"epoch-{epoch}.pt")

    assert_fails(ex06.save_checkpoint(pickles_the_model), "weights_only=True")
    assert_fails(ex06.save_checkpoint(no_optimizer), "optimizer's state_dict")
    assert_fails(ex06.save_checkpoint(keeps_everything), "delete all but the 2 newest")
    assert_fails(ex06.save_checkpoint(unpadded), "epoch-001.pt")
    assert_fails(ex06.resume(no_optimizer, load_reference), "the optimizer has no state")

    def next_epoch(folder, model, optimizer):
        return load_reference(folder, model, optimizer) + 1

    assert_fails(ex06.resume(save_reference, next_epoch), "with no checkpoint it should return 0")

    def oldest(folder, model, optimizer):
        files = sorted(folder.glob("epoch-*.pt"))
        if not files:
            return 0
        state = torch.load(files[0], weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        return state["epoch"]

    assert_fails(ex06.resume(save_reference, oldest), "returned 1")


def test_ex06_schedule_rejects_zero_start_and_missing_warmup():
    assert_fails(
        ex06.warmup_cosine(lambda s, w, t: warmup_cosine_reference(s, w, t, first=0)),
        "the first step already gets 1/warmup_steps",
    )
    assert_fails(
        ex06.warmup_cosine(lambda s, w, t: 0.5 * (1 + np.cos(np.pi * s / t))), "no warm-up"
    )


# --------------------------------------------------------------------------- first problems
def test_a_dtype_error_is_called_a_dtype_error_and_arguments_are_described():
    layer = nn.Linear(3, 2)

    def forward_in_float64(*inputs):
        return layer(inputs[0].double())

    with Checker("Task 9 · demo", show=False) as check:
        check.call(forward_in_float64, torch.zeros(4, 3))
    assert check.report.status == FAILED
    text = check.report.text
    assert "a dtype mismatch" in text and "a shape error" not in text, text
    assert "inputs a tuple of 1 (shape (4, 3) float32)" in text, text


def test_a_result_with_a_none_inside_or_integer_truncation_is_named():
    assert "[1] is None" in compare([0.5, None], [0.5, 0.25], what="pair")
    assert "integer dtype" in compare(np.array([0, 1]), np.array([0.25, 1.5]), what="x")
    assert "complex numbers" in compare(np.array([1 + 1j, 2]), np.ones(2), what="x")
    assert "expected dtype float32" in compare(
        np.ones(2), np.ones(2), what="x", dtype="float32"
    )
    hidden = compare(np.zeros(2), np.array([0.123, 4.567]), what="x", show_expected=False)
    assert "4.567" not in hidden and "not the expected values" in hidden


def test_system_exit_is_reported_and_ctrl_c_gets_through():
    def exits():
        raise SystemExit(3)

    with Checker("Task 9 · demo", show=False) as check:
        check.call(exits)
    assert check.report.status == FAILED and "called exit()" in check.report.text

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), Checker("Task 9 · demo", show=False) as check:
        check.call(interrupted)
