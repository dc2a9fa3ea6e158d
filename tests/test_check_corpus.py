"""Every exercise check, fed a corpus of wrong answers: none passes, each is named.

The correct answers are the reference solutions themselves (their functions are read
from ``lessons/exercises/solutions/*.py`` without running the notebooks). Each task's
corpus holds the wrong kinds issue 15 lists, wherever they make sense for the task:
nothing returned (``None``), a ``None`` inside the result, NaN, complex numbers, an
integer cast, ``SystemExit``, plus the task's own plausible mistakes. For every wrong
answer the test asserts that the verdict fails, that its first line names the problem,
that no library warning escapes, that the message quotes no line of the solution, and
that the check leaves the global random generators as it found them. ``KeyboardInterrupt``
must get through every check.
"""

from __future__ import annotations

import ast
import random
import types
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from widgets.checks import FAILED, PASSED
from widgets.checks import ex01_perceptron as ex01
from widgets.checks import ex02_by_hand as ex02
from widgets.checks import ex03_mlp_numpy as ex03
from widgets.checks import ex04_regularisation as ex04
from widgets.checks import ex05_pytorch_mnist as ex05
from widgets.checks import ex06_advanced_pytorch as ex06

SOLUTIONS = Path(__file__).resolve().parent.parent / "lessons" / "exercises" / "solutions"


@cache
def solution(name: str) -> types.SimpleNamespace:
    """The imports, functions and classes of a solution notebook, without running its cells."""
    path = next(SOLUTIONS.glob(f"{name}-*.py"))
    tree = ast.parse(path.read_text())
    kept = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
    ]
    namespace: dict = {}
    exec(compile(ast.Module(kept, []), str(path), "exec"), namespace)
    return types.SimpleNamespace(**namespace, solution_lines=_code_lines(path))


def _code_lines(path: Path) -> list[str]:
    """The solution's own code lines (between the markers), long enough to be telling."""
    lines, inside = [], False
    for line in path.read_text().splitlines():
        text = line.strip()
        if text.upper().startswith("# SOLUTION"):
            inside = True
        elif text.upper().startswith("# END SOLUTION"):
            inside = False
        elif inside and not text.startswith(("#", '"""', "def ", "return {")):
            text = text.removeprefix("return ").strip()
            if len(text) >= 16:
                lines.append(text)
    return lines


# --------------------------------------------------------------------------- wrong kinds
def _map(value, leaf):
    if isinstance(value, tuple | list):
        return type(value)(_map(v, leaf) for v in value)
    return leaf(value)


def _nan(value):
    if isinstance(value, torch.Tensor):
        return torch.full_like(value, float("nan"))
    if isinstance(value, np.ndarray):
        return np.full(value.shape, np.nan)
    return float("nan") if isinstance(value, int | float | np.floating) else value


def _complex(value):
    if isinstance(value, np.ndarray):
        return value + 1e-3j
    return complex(value, 1e-3) if isinstance(value, int | float | np.floating) else value


def _integer(value):
    if isinstance(value, np.ndarray):
        return value.astype(int)
    return int(value) if isinstance(value, float | np.floating) else value


def returns_none(function):
    def wrong(*args, **kwargs):
        function(*args, **kwargs)

    return wrong


def transformed(function, leaf):
    def wrong(*args, **kwargs):
        return _map(function(*args, **kwargs), leaf)

    return wrong


def none_inside(function):
    def wrong(*args, **kwargs):
        result = list(function(*args, **kwargs))
        result[0] = None
        return tuple(result)

    return wrong


def raising(error):
    def wrong(*args, **kwargs):
        raise error

    return wrong


GENERIC = {
    "none": (returns_none, "returned None"),
    "none inside": (none_inside, "is None, not a number"),
    "nan": (lambda f: transformed(f, _nan), "NaN"),
    "complex": (lambda f: transformed(f, _complex), "complex numbers"),
    "integer": (lambda f: transformed(f, _integer), "integer dtype"),
    "exit": (lambda f: raising(SystemExit(1)), "called exit()"),
}


# --------------------------------------------------------------------------- the corpus
def _ex01():
    s = solution("01")
    update = s.perceptron_update
    return [
        (
            "ex01 predict",
            ex01.predict,
            s.predict,
            ["none", "nan", "complex", "exit"],
            [
                (lambda w, b, x: 1 if w @ x + b >= 0 else 0, "classes are −1 and +1"),
                (lambda w, b, x: 1 if w @ x + b > 0 else -1, "boundary belongs to class +1"),
                (lambda w, b, x: float(w @ x + b), "its sign"),
            ],
        ),
        (
            "ex01 update",
            ex01.perceptron_update,
            update,
            ["none", "none inside", "nan", "complex", "integer", "exit"],
            [
                (
                    lambda w, b, x, t, lr: (
                        w + lr * (t - s.predict(w, b, x)) * x,
                        b + lr * (t - s.predict(w, b, x)),
                    ),
                    "twice too large",
                ),
                (
                    lambda w, b, x, t, lr: (
                        (w + t * x, b + t) if s.predict(w, b, x) != t else (w, b)
                    ),
                    "learning rate η is missing",
                ),
                (lambda w, b, x, t, lr: (w, b), "did not change"),
            ],
        ),
        (
            "ex01 train",
            ex01.train_perceptron,
            s.train_perceptron,
            ["none", "none inside", "nan", "complex", "exit"],
            [
                (lambda X, y, lr=1.0, epochs=100: s.train_perceptron(X, y, lr, 1), "misclassified"),
            ],
        ),
    ]


def _ex02():
    s = solution("02")

    def one_sided(loss, parameter, direction, epsilon=1e-6):
        saved = parameter.copy()
        base = loss()
        parameter += epsilon * direction
        above = loss()
        parameter[...] = saved
        return (above - base) / epsilon

    def unrestored(loss, parameter, direction, epsilon=1e-6):
        parameter += epsilon * direction
        above = loss()
        parameter -= 2 * epsilon * direction
        below = loss()
        return (above - below) / (2 * epsilon)

    return [
        (
            "ex02 neuron",
            ex02.single_neuron_gradients,
            s.single_neuron_gradients,
            ["none", "none inside", "nan", "complex", "integer", "exit"],
            [],
        ),
        (
            "ex02 forward",
            ex02.forward,
            s.forward,
            ["none", "none inside", "nan", "complex", "exit"],
            [],
        ),
        (
            "ex02 backward",
            ex02.backward,
            s.backward,
            ["none", "none inside", "nan", "complex", "exit"],
            [],
        ),
        (
            "ex02 directional",
            ex02.directional_derivative,
            s.directional_derivative,
            ["none", "nan", "complex", "exit"],
            [
                (one_sided, "one-sided difference"),
                (unrestored, "not restored exactly"),
            ],
        ),
    ]


def _ex03():
    s = solution("03")

    def loss_without_smoothing(logits, labels, smoothing=0.0):
        return s.softmax_cross_entropy(logits, labels, 0.0)

    def backward_2d_only(delta, A_prev, W):
        return delta.T @ A_prev, delta.sum(axis=0), delta @ W

    return [
        (
            "ex03 forward",
            ex03.dense_forward,
            s.dense_forward,
            ["none", "nan", "complex", "integer", "exit"],
            [
                (lambda A, W, b: A @ W.T, "bias b is missing"),
            ],
        ),
        (
            "ex03 backward",
            ex03.dense_backward,
            s.dense_backward,
            ["none", "none inside", "nan", "complex", "integer", "exit"],
            [
                (backward_2d_only, "shape error"),
            ],
        ),
        (
            "ex03 loss",
            ex03.softmax_cross_entropy,
            s.softmax_cross_entropy,
            ["none", "none inside", "nan", "complex", "integer", "exit"],
            [
                (loss_without_smoothing, "smoothing was ignored"),
            ],
        ),
    ]


def _ex04():
    s = solution("04")

    def inverted(x, p, rng, training):
        if not training:
            return x, np.ones_like(x)
        mask = (rng.random(x.shape) >= p) / (1 - p)
        return x * mask, mask

    def l2(params, grads, lr, l1):
        for param, grad in zip(params, grads, strict=True):
            param -= lr * (grad + l1 * param)

    def new_arrays(params, grads, lr, l1):
        return [p - lr * (g + l1 * np.sign(p)) for p, g in zip(params, grads, strict=True)]

    return [
        (
            "ex04 forward",
            ex04.gaussian_dropout_forward,
            s.gaussian_dropout_forward,
            ["none", "none inside", "nan", "complex", "exit"],
            [
                (inverted, "that is inverted dropout"),
            ],
        ),
        (
            "ex04 backward",
            ex04.gaussian_dropout_backward,
            s.gaussian_dropout_backward,
            ["none", "nan", "complex", "integer", "exit"],
            [
                (lambda grad, noise: grad, "passed through unchanged"),
            ],
        ),
        (
            "ex04 sgd",
            ex04.sgd_step,
            s.sgd_step,
            ["exit"],
            [
                (l2, "this is L2 weight decay"),
                (new_arrays, "returned new arrays"),
            ],
        ),
    ]


def _ex05():
    s = solution("05")

    def nan_model():
        model = s.build_model()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(float("nan"))
        return model

    def step_every_batch(model, loader, loss_fn, optimizer, accumulate=1):
        return s.train_one_epoch(model, loader, loss_fn, optimizer, 1)

    def unscaled(model, loader, loss_fn, optimizer, accumulate=1):
        model.train()
        batches, total, correct, seen = list(loader), 0.0, 0, 0
        for number, (inputs, targets) in enumerate(batches, start=1):
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            loss.backward()
            if number % accumulate == 0 or number == len(batches):
                optimizer.step()
                optimizer.zero_grad()
            total += loss.item() * len(targets)
            correct += int((outputs.argmax(1) == targets).sum())
            seen += len(targets)
        return total / seen, correct / seen

    return [
        (
            "ex05 model",
            ex05.build_model,
            s.build_model,
            ["none", "exit"],
            [
                (nan_model, "contain NaN"),
                (lambda: s.build_model().double(), "torch.float64"),
                (lambda: nn.Sequential(s.build_model(), nn.Softmax(dim=1)), "remove the final"),
            ],
        ),
        (
            "ex05 train",
            ex05.train_one_epoch,
            s.train_one_epoch,
            ["none", "none inside", "nan", "complex", "exit"],
            [
                (step_every_batch, "stepped after every batch"),
                (unscaled, "*sum* of the group's gradients"),
            ],
        ),
        (
            "ex05 confusion",
            ex05.confusion_matrix,
            s.confusion_matrix,
            ["none", "exit"],
            [
                (lambda m, loader, n: s.confusion_matrix(m, loader, n).T, "rows and columns"),
                (lambda m, loader, n: s.confusion_matrix(m, loader, n).float(), "integer counts"),
                (lambda m, loader, n: s.confusion_matrix(m, loader, n).double() / 2, "integer"),
            ],
        ),
    ]


def _ex06():
    s = solution("06")

    def keep_everything(folder, model, optimizer, epoch, keep=2):
        return s.save_checkpoint(folder, model, optimizer, epoch, keep=10_000)

    def whole_objects(folder, model, optimizer, epoch, keep=2):
        torch.save({"model": model, "epoch": epoch}, Path(folder) / f"epoch-{epoch:03d}.pt")
        for old in sorted(Path(folder).glob("*.pt"))[:-keep]:
            old.unlink()

    return [
        (
            "ex06 schedule",
            ex06.warmup_cosine,
            s.warmup_cosine,
            ["none", "nan", "complex", "exit"],
            [
                (
                    lambda step, w, t: s.warmup_cosine(step, w, t) if step >= w else step / w,
                    "warm-up",
                ),
            ],
        ),
        (
            "ex06 save",
            ex06.save_checkpoint,
            s.save_checkpoint,
            ["exit"],
            [
                (keep_everything, "delete all but the 2 newest"),
                (whole_objects, "cannot read the file"),
            ],
        ),
    ]


CORPUS = [
    (f"{task} · {kind}", check, GENERIC[kind][0](correct), GENERIC[kind][1])
    for task, check, correct, kinds, _ in _ex01() + _ex02() + _ex03() + _ex04() + _ex05() + _ex06()
    for kind in kinds
] + [
    (f"{task} · mistake {number}", check, wrong, phrase)
    for task, check, _, _, mistakes in _ex01() + _ex02() + _ex03() + _ex04() + _ex05() + _ex06()
    for number, (wrong, phrase) in enumerate(mistakes, start=1)
]
TASKS = [
    (task, check, correct)
    for task, check, correct, _, _ in _ex01() + _ex02() + _ex03() + _ex04() + _ex05() + _ex06()
]


def _rng_states():
    return (random.getstate(), np.random.get_state()[1].tobytes(), torch.get_rng_state())


def _run_quietly(check, answer):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = check(answer)
    return report, [str(w.message) for w in caught]


@pytest.mark.parametrize(("name", "check", "correct"), TASKS, ids=[t[0] for t in TASKS])
def test_the_reference_solution_passes(name, check, correct):
    report, leaked = _run_quietly(check, correct)
    assert report.status == PASSED, report.text
    assert not leaked, leaked


@pytest.mark.parametrize(
    ("name", "check", "wrong", "phrase"), CORPUS, ids=[entry[0] for entry in CORPUS]
)
def test_a_wrong_answer_fails_with_a_message_that_names_it(name, check, wrong, phrase):
    random.seed(11)
    np.random.seed(11)
    torch.manual_seed(11)
    before = _rng_states()
    report, leaked = _run_quietly(check, wrong)
    after = _rng_states()
    assert report.status == FAILED, report.text
    assert phrase in report.text, f"{phrase!r} not in:\n{report.text}"
    assert not leaked, f"warnings escaped the check: {leaked}"
    assert before[0] == after[0] and before[1] == after[1], "the check moved the student's RNG"
    assert torch.equal(before[2], after[2]), "the check moved PyTorch's global generator"
    exercise = name[2:4]
    quoted = [line for line in solution(exercise).solution_lines if line in report.text]
    assert not quoted, f"the message quotes the solution: {quoted}"


@pytest.mark.parametrize(("name", "check", "correct"), TASKS, ids=[t[0] for t in TASKS])
def test_ctrl_c_is_never_swallowed(name, check, correct):
    with pytest.raises(KeyboardInterrupt):
        check(raising(KeyboardInterrupt()))


def test_the_all_nan_model_fails_exercise_5_with_a_message_saying_nan():
    def nan_model():
        model = solution("05").build_model()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(float("nan"))
        return model

    report = ex05.build_model(nan_model)
    assert report.status == FAILED and "NaN" in report.text.splitlines()[1], report.text


def test_a_passing_check_leaves_the_random_generators_alone():
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    expected = (torch.rand(3), np.random.random(3), random.random())
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    assert ex05.train_one_epoch(solution("05").train_one_epoch).passed
    assert ex04.gaussian_dropout_forward(solution("04").gaussian_dropout_forward).passed
    assert ex01.train_perceptron(solution("01").train_perceptron).passed
    # The next draws are the ones the student would have got without the checks.
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.random(3), expected[1])
    assert random.random() == expected[2]


@pytest.mark.parametrize(
    ("exercise", "module"),
    [("01", ex01), ("02", ex02), ("03", ex03), ("04", ex04), ("05", ex05), ("06", ex06)],
)
def test_no_hint_quotes_the_solution(exercise, module):
    lines = solution(exercise).solution_lines
    for task, hints in module.hint._hints.items():
        for level, text in enumerate(hints, start=1):
            quoted = [line for line in lines if line in text]
            assert not quoted, f"exercise {exercise}, task {task}, hint {level} quotes {quoted}"
