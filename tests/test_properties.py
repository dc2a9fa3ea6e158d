"""Property-based tests: whatever bytes or numbers come in, the answer is right or a clear error.

Each property draws random inputs, finite and non-finite, well-formed and damaged, and
asserts one of two outcomes: the correct result, or the documented error type with a
message that names the file (or argument) at fault. Never another exception, never a
wrong answer.

The runs are bounded (the "course" profile below, ``max_examples`` per test) and
derandomized, so ``make test`` spends a few seconds here and gives the same verdict on
every run. ``HYPOTHESIS_PROFILE=thorough`` searches much longer, for a local hunt.
"""

from __future__ import annotations

import importlib.util
import math
import os
import pickle
import re
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from widgets import data, dataset_files
from widgets import numpy_nn as nn
from widgets.checkpoint import (
    CheckpointMismatchError,
    CheckpointReadError,
    load_checkpoint,
    save_checkpoint,
)
from widgets.torch_training import make_mlp

settings.register_profile(
    "course",
    deadline=None,  # a shared 2-core machine has slow moments; time is bounded by examples
    derandomize=True,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", parent=settings.get_profile("course"), derandomize=False)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))


def bounded(max_examples: int):
    """The active profile with this test's example budget (``thorough`` multiplies it)."""
    scale = 20 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1
    return settings(PROFILE, max_examples=max_examples * scale)


ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

# Any number a student or a file could hand over, NaN and infinities included.
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)
NOT_A_NUMBER = st.one_of(st.none(), st.text(max_size=4), st.lists(st.integers(), max_size=2))


def scratch_file(content: bytes, name: str) -> Path:
    """A fresh file per example (pytest's tmp_path is shared by all of a test's examples)."""
    folder = Path(tempfile.mkdtemp(prefix="prop-"))
    path = folder / name
    path.write_bytes(content)
    return path


# --------------------------------------------------------------------------- IDX files
def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@bounded(150)
@given(content=st.binary(max_size=300))
def test_idx_shape_of_arbitrary_bytes_is_consistent_or_a_named_error(content):
    path = scratch_file(content, "some-idx-ubyte")
    try:
        dims = dataset_files.idx_shape(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    # accepted: the header promises exactly the bytes the file has
    assert content[:3] == b"\0\0\x08" and len(dims) == content[3] >= 1
    assert len(content) == 4 + 4 * len(dims) + math.prod(dims)
    assert dataset_files.read_idx(path).shape == dims


@bounded(60)
@given(array=arrays(np.uint8, st.lists(st.integers(0, 5), min_size=1, max_size=3).map(tuple)))
def test_idx_round_trip_and_any_cut_is_detected(array):
    path = scratch_file(idx_bytes(array), "a-idx-ubyte")
    np.testing.assert_array_equal(dataset_files.read_idx(path), array)
    full = path.read_bytes()
    path.write_bytes(full[:-1] if array.size else full + b"\0")
    with pytest.raises(ValueError, match="truncated|promises"):
        dataset_files.read_idx(path)


@bounded(60)
@given(
    n_images=st.integers(0, 4),
    item_shape=st.sampled_from([(28, 28), (28, 28), (784,), (28, 27), (28, 28, 3), (1, 28, 28)]),
    labels=st.lists(st.integers(0, 255), max_size=5),
)
def test_an_idx_dataset_is_accepted_exactly_when_shapes_and_labels_fit(
    n_images, item_shape, labels
):
    root = Path(tempfile.mkdtemp(prefix="prop-"))
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.zeros((n_images, *item_shape), np.uint8)
    for split in ("train", "t10k"):
        (raw / f"{split}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(idx_bytes(np.array(labels, np.uint8)))
    fits = item_shape == (28, 28) and len(labels) == n_images and max(labels, default=0) < 10
    problem = data.presence_problem("mnist", root)
    if fits:
        assert problem is None
        X, y = data.load_numpy("mnist", "test", root, fallback=False)
        assert X.shape == (n_images, 28, 28) and y.tolist() == labels
    else:
        assert problem is not None and str(raw) in problem
        with pytest.raises(data.DataUnavailable, match=re.escape(f"--root {root}")):
            data.load_numpy("mnist", "test", root, fallback=False)


# --------------------------------------------------------------------------- CIFAR batches
@bounded(150)
@given(content=st.binary(max_size=400))
def test_a_cifar_batch_of_arbitrary_bytes_is_a_named_error(content):
    path = scratch_file(content, "data_batch_1")
    with pytest.raises(ValueError) as error:
        dataset_files.read_cifar_batch(path)
    assert str(path) in str(error.value)


PIXELS = st.one_of(
    arrays(
        st.sampled_from([np.uint8, np.int64, np.float64]),
        st.sampled_from([(2, 3072), (0, 3072), (3072,), (2, 1000), (1, 3, 32, 32)]),
    ),
    st.lists(st.lists(st.integers(-5, 300), max_size=3), max_size=2),
    st.just(np.full((1, 3072), 300)),
    ANY_FLOAT,
)
LABELS = st.one_of(
    st.lists(st.integers(-3, 12), max_size=3),
    st.lists(ANY_FLOAT, max_size=2),
    st.lists(st.text(max_size=2), max_size=2),
    st.none(),
)


@bounded(150)
@given(
    batch=st.one_of(
        st.fixed_dictionaries({"data": PIXELS, "labels": LABELS}),
        st.dictionaries(st.sampled_from(["data", "labels", "batch_label"]), PIXELS, max_size=3),
        st.lists(st.integers(), max_size=3),
    )
)
def test_any_cifar_pickle_is_read_correctly_or_refused_by_name(batch):
    path = scratch_file(pickle.dumps(batch), "test_batch")
    try:
        images, labels = dataset_files.read_cifar_batch(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    pixels = np.asarray(batch["data"])
    assert pixels.ndim == 2 and pixels.shape[1] == 3072 and pixels.dtype.kind in "iu"
    assert images.shape == (len(pixels), 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert labels.tolist() == list(batch["labels"]) and all(0 <= x < 10 for x in labels)


# --------------------------------------------------------------------------- optimizers
# (argument, the values torch.optim and this course accept, optimizers that take it)
HYPERPARAMETERS = {
    "lr": (lambda v: v > 0, ["SGD", "Momentum", "RMSprop", "Adam"]),
    "weight_decay": (lambda v: v >= 0, ["SGD", "Momentum", "RMSprop", "Adam"]),
    "eps": (lambda v: v >= 0, ["RMSprop", "Adam"]),
    "alpha": (lambda v: 0 <= v <= 1, ["RMSprop"]),
    "momentum": (lambda v: 0 <= v < 1, ["Momentum"]),
}


@bounded(200)
@given(
    argument=st.sampled_from(sorted(HYPERPARAMETERS)),
    choice=st.integers(0, 3),
    value=st.one_of(ANY_FLOAT, st.integers(-3, 3), NOT_A_NUMBER),
)
def test_optimizers_accept_exactly_the_valid_hyperparameters(argument, choice, value):
    allowed, users = HYPERPARAMETERS[argument]
    optimizer_class = nn.OPTIMIZERS[users[choice % len(users)]]
    valid = isinstance(value, (int, float)) and math.isfinite(value) and allowed(float(value))
    param, grad = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    if not valid:
        with pytest.raises(ValueError, match=argument if argument != "lr" else "learning rate"):
            optimizer_class([param], [grad], **{argument: value})
        return
    optimizer = optimizer_class([param], [grad], **{argument: value})
    assert getattr(optimizer, argument) == float(value)
    if abs(value) <= 1e3:  # beyond, a step may overflow, as it would in torch.optim
        optimizer.step()
        assert np.all(np.isfinite(param))


@bounded(100)
@given(betas=st.one_of(st.tuples(ANY_FLOAT, ANY_FLOAT), st.lists(ANY_FLOAT, max_size=3)))
def test_adam_betas_are_checked_like_torch(betas):
    valid = len(betas) == 2 and all(math.isfinite(b) and 0 <= b < 1 for b in betas)
    params = [np.ones(2)]
    if valid:
        nn.Adam(params, [np.ones(2)], betas=betas).step()
        assert np.all(np.isfinite(params[0]))
        # torch.optim.Adam agrees that such betas are fine
        torch.optim.Adam([torch.ones(2, requires_grad=True)], betas=tuple(betas))
    else:
        with pytest.raises(ValueError, match="betas"):
            nn.Adam(params, [np.ones(2)], betas=betas)


# --------------------------------------------------------------------------- checkpoints
_CHECKPOINT = None


def intact_checkpoint() -> bytes:
    global _CHECKPOINT
    if _CHECKPOINT is None:
        folder = Path(tempfile.mkdtemp(prefix="prop-"))
        _CHECKPOINT = save_checkpoint(folder / "c.pt", make_mlp([3, 4, 2]), epoch=1).read_bytes()
    return _CHECKPOINT


def assert_named_and_safe(path: Path, error: Exception) -> None:
    message = str(error)
    assert str(path) in message
    assert "weights_only=False" not in message  # never the unsafe advice


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")  # torch's, on junk
@bounded(120)
@given(content=st.binary(max_size=600))
def test_loading_arbitrary_bytes_as_a_checkpoint_is_a_named_error(content):
    path = scratch_file(content, "random.pt")
    with pytest.raises(CheckpointReadError) as error:
        load_checkpoint(path, make_mlp([3, 4, 2]))
    assert_named_and_safe(path, error.value)


@bounded(60)
@given(fraction=st.floats(0.0, 1.0, exclude_max=True), flip=st.integers(0, 10**6))
def test_a_cut_or_flipped_checkpoint_loads_correctly_or_is_a_named_error(fraction, flip):
    intact = intact_checkpoint()
    cut = scratch_file(intact[: int(len(intact) * fraction)], "cut.pt")
    with pytest.raises(CheckpointReadError) as error:
        load_checkpoint(cut, make_mlp([3, 4, 2]))
    assert_named_and_safe(cut, error.value)

    damaged = bytearray(intact)
    damaged[flip % len(damaged)] ^= 0xFF
    path = scratch_file(bytes(damaged), "flipped.pt")
    try:
        info = load_checkpoint(path, make_mlp([3, 4, 2]), restore_rng=False)
    except CheckpointReadError as error:
        assert_named_and_safe(path, error)
        return
    except CheckpointMismatchError as error:  # a flipped name or shape: listed, nothing loaded
        assert "does not fit" in str(error)
        return
    assert isinstance(info["epoch"], int)  # a flip in the weights' bytes loads as other weights


# --------------------------------------------------------------------------- the generator
@st.composite
def spelled(draw, marker: str) -> str:
    """A code marker in one of the spellings people type: any case, with or without spaces."""
    case = draw(st.sampled_from([str.upper, str.lower, str.title]))
    return "#" + draw(st.sampled_from(["", " ", "  "])) + case(marker)


@st.composite
def code_cell(draw) -> str:
    """Plain statements (``visible``) and marked solutions (``secret``), at one indentation,
    sometimes inside a list literal or beside a string that mentions a marker; one marker
    of a block may be missing or doubled. ``secret`` never appears outside markers."""
    indent = draw(st.sampled_from(["", "    "]))
    lines = ["def task():"] if indent else []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["visible", "solution", "list", "string"]))
        start = indent + draw(spelled("solution")) + " Task 1: write it"
        end = indent + draw(spelled("end solution"))
        if kind == "visible":
            block = [f"{indent}visible = 1"]
        elif kind == "string":
            block = [f'{indent}note = """', "# SOLUTION in a string, not a marker", '"""']
        elif kind == "list":
            block = [f"{indent}values = [", start, f"{indent}    1,", end, f"{indent}]"]
        else:
            block = [start, f"{indent}secret = 2", end]
        mutation = draw(st.sampled_from(["none", "none", "drop start", "drop end", "double"]))
        if kind in ("solution", "list") and mutation != "none":
            where = block.index(start if mutation != "drop end" else end)
            if mutation == "double":
                block.insert(where, block[where])
            else:
                del block[where]
        lines += block
    lines.append(f"{indent}visible = 3")
    tagged = draw(st.integers(0, 5)) == 0  # a whole cell tagged "solution" is dropped
    return "\n".join(['# %% tags=["solution"]' if tagged else "# %%", *lines])


@st.composite
def markdown_cell(draw) -> str:
    lines = ["# %% [markdown]", "# Some text."]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["text", "solution", "student"]))
        if kind == "text":
            block = ["visible text"]
        elif kind == "solution":
            opening = draw(st.sampled_from(["<!-- SOLUTION -->", "<!--solution-->"]))
            block = [
                opening,
                "secret answer",
                draw(st.sampled_from(["<!-- END SOLUTION -->", "<!-- end solution -->"])),
            ]
        else:
            block = ["<!-- STUDENT", "student text", "-->"]
        if kind != "text" and draw(st.booleans()):
            del block[draw(st.sampled_from([0, -1]))]  # an unbalanced marker
        lines += [f"# {line}" for line in block]
    return "\n".join(lines)


@bounded(150)
@given(cells=st.lists(st.one_of(code_cell(), markdown_cell()), min_size=1, max_size=3))
def test_the_generator_hides_every_solution_or_names_the_line(cells):
    text = "\n\n".join(cells) + "\n"
    try:
        student = make_student.student_source(text, "solutions/99-random.py")
    except make_student.MarkerError as error:
        assert re.match(r"solutions/99-random\.py:\d+: \S", str(error)), str(error)
        line = int(str(error).split(":")[1])
        assert 1 <= line <= text.count("\n")
        return
    assert "secret" not in student
    assert "[\n    raise" not in student and "[\nraise" not in student
    for cell in student.split("# %%")[1:]:
        header, _, source = cell.partition("\n")
        if "[markdown]" not in header:
            compile(source, "student", "exec")


# --------------------------------------------------------------------------- widget models
# The models behind the widgets (issue 17's other half): whatever number a student types or
# a run produces, a model gives a correct result or a ValueError/TypeError that names the
# argument, and never crashes later with something else.
from widgets.autodiff import Value  # noqa: E402
from widgets.backprop_tape import BackpropTape  # noqa: E402
from widgets.perceptron import Perceptron  # noqa: E402
from widgets.toy_data import make_gate  # noqa: E402
from widgets.training_history import TrainingHistory  # noqa: E402

any_float = st.floats(allow_nan=True, allow_infinity=True)
moderate = st.floats(min_value=-50, max_value=50, allow_nan=False)


@bounded(150)
@given(
    w1=any_float,
    w2=any_float,
    bias=any_float,
    lr=any_float,
    max_epochs=st.one_of(any_float, st.integers(-3, 50)),
)
def test_a_perceptron_accepts_good_numbers_and_names_bad_ones(
    w1, w2, bias, lr, max_epochs
):
    try:
        model = Perceptron(
            *make_gate("AND"),
            weights=(w1, w2),
            bias=bias,
            lr=lr,
            max_epochs=max_epochs,
        )
    except ValueError as error:
        assert re.search(r"weights|w1|w2|b\b|bias|lr|max_epochs", str(error))
        return
    status = model.train()
    assert status.state in {"converged", "cycling", "epoch cap"}
    assert all(math.isfinite(p) for p in model.parameters())
    if status.state == "converged":
        assert model.errors() == 0


@bounded(200)
@given(a=moderate, b=moderate, c=moderate.filter(lambda v: abs(v) > 1e-3))
def test_autodiff_matches_pytorch_on_a_mixed_expression(a, b, c):
    va, vb, vc = Value(a), Value(b), Value(c)
    out = ((va * vb + vc).tanh() * va - vb / vc + (va - vb).relu() + vc.sigmoid()) ** 2
    out.backward()
    ta, tb, tc = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b, c))
    ref = ((ta * tb + tc).tanh() * ta - tb / tc + torch.relu(ta - tb) + tc.sigmoid()) ** 2
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-9, abs=1e-12)
    for value, tensor in ((va, ta), (vb, tb), (vc, tc)):
        assert value.grad == pytest.approx(tensor.grad.item(), rel=1e-7, abs=1e-9)


@bounded(150)
@given(x=any_float, exponent=st.sampled_from([0.5, -1.0, 2.0, 1.5, -0.5]))
def test_autodiff_domain_errors_are_clear(x, exponent):
    try:
        y = Value(x) ** exponent
    except ValueError as error:
        assert "x **" in str(error)
        assert (x < 0 and not float(exponent).is_integer()) or (x == 0 and exponent < 0)
        return
    expected = (torch.tensor(x, dtype=torch.float64) ** exponent).item()  # overflow: inf
    assert y.data == pytest.approx(expected, rel=1e-12) or (
        math.isnan(y.data) and math.isnan(expected)
    )
    try:
        Value(x).log()
    except ValueError as error:
        assert "log needs a positive input" in str(error) and not x > 0


@bounded(100)
@given(a=any_float, b=any_float, c=any_float)
def test_the_tape_is_total_on_lesson_3s_graph(a, b, c):
    va, vb, vc = Value(a, "a", parameter=True), Value(b, "b"), Value(c, "c")
    out = (va * vb + vc) * va
    tape = BackpropTape(out, lr=0.1)  # must not raise, whatever the numbers
    tape.run_backward()
    out.backward()
    for node in (va, vb, vc):
        grad = tape.grad_of(node)
        assert grad == node.grad or (math.isnan(grad) and math.isnan(node.grad))
    for i in range(len(tape.nodes)):
        error = tape.relative_error(i)
        assert error is None or error >= 0 or math.isnan(error)


@bounded(150)
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from(["loss", "val_loss", "acc", "lr"]), any_float, min_size=1),
        min_size=1,
        max_size=12,
    )
)
def test_a_history_records_any_numbers_and_flags_the_ones_that_are_not_finite(rows):
    history = TrainingHistory()
    for epoch, row in enumerate(rows, start=1):
        history.log(epoch=epoch, **row)
    assert len(history) == len(rows)
    for name in {name for row in rows for name in row}:
        xs, ys = history.series(name)
        logged = [row[name] for row in rows if name in row]
        assert len(xs) == len(ys) == len(logged)
        if any(not math.isfinite(v) for v in logged):
            assert any(flag.name == name for flag in history.flags)
    summary = history.summary()
    assert summary["rows"] == len(rows)
    assert history.summary_text()
