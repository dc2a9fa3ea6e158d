"""widgets.data: offline seeding, checksummed downloads from a local server, recovery, toy data.

Downloads are tested against an HTTP server on 127.0.0.1 serving small MNIST- and
CIFAR-format files that the tests write; torchvision's mirrors/url/resources are pointed
at it. No test talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import pickle
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets as tvd

from widgets import data, dataset_files, toy_data

# --------------------------------------------------------------------------- fixtures


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialise a uint8 array in the IDX format MNIST uses."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def md5(payload: bytes) -> str:
    return hashlib.md5(payload).hexdigest()


@pytest.fixture
def http_server(tmp_path):
    """Serve ``tmp_path / "www"`` on 127.0.0.1; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(www))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def tiny_mnist(http_server, monkeypatch):
    """Small MNIST-format .gz files on the local server; torchvision's MNIST pointed at them."""
    www, url = http_server
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 12, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 5, dtype=np.uint8),
    }
    resources = []
    for name, array in arrays.items():
        payload = gzip.compress(idx_bytes(array))
        (www / f"{name}.gz").write_bytes(payload)
        resources.append((f"{name}.gz", md5(payload)))
    monkeypatch.setattr(tvd.MNIST, "mirrors", [url])
    monkeypatch.setattr(tvd.MNIST, "resources", resources)
    return www, arrays


@pytest.fixture
def tiny_cifar(http_server, monkeypatch):
    """A small CIFAR-10-format archive on the local server; torchvision's CIFAR10 pointed at it."""
    www, url = http_server
    rng = np.random.default_rng(1)
    members, batches = {}, {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
            "labels": rng.integers(0, 10, 4).tolist(),
        }
        batches[name] = batch
        members[name] = pickle.dumps(batch)
    members["batches.meta"] = pickle.dumps({"label_names": data.CLASS_NAMES["cifar10"]})
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"{data.CIFAR_FOLDER}/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    (www / "cifar-10-python.tar.gz").write_bytes(archive.getvalue())
    monkeypatch.setattr(tvd.CIFAR10, "url", f"{url}cifar-10-python.tar.gz")
    monkeypatch.setattr(tvd.CIFAR10, "tgz_md5", md5(archive.getvalue()))
    monkeypatch.setattr(
        tvd.CIFAR10,
        "train_list",
        [[f"data_batch_{i}", md5(members[f"data_batch_{i}"])] for i in range(1, 6)],
    )
    monkeypatch.setattr(tvd.CIFAR10, "test_list", [["test_batch", md5(members["test_batch"])]])
    monkeypatch.setattr(
        tvd.CIFAR10,
        "meta",
        {"filename": "batches.meta", "key": "label_names", "md5": md5(members["batches.meta"])},
    )
    return batches


@pytest.fixture
def offline(monkeypatch):
    """Every download goes to a closed port on 127.0.0.1: a fast, certain network failure."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    monkeypatch.setattr(tvd.MNIST, "mirrors", [dead])
    monkeypatch.setattr(tvd.CIFAR10, "url", f"{dead}cifar-10-python.tar.gz")


@pytest.fixture
def no_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-such-package")


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --------------------------------------------------------------------------- downloads


def test_mnist_download_from_local_server_is_verified_and_loadable(tiny_mnist, tmp_path):
    _, arrays = tiny_mnist
    root = tmp_path / "data"
    data.fetch("mnist", root)
    assert all_files(root) == ["MNIST", "MNIST/raw"] + [f"MNIST/raw/{n}" for n in sorted(arrays)]
    X, y = data.load_numpy("mnist", "train", root)
    np.testing.assert_array_equal(X, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    assert y.dtype == np.int64
    # torchvision itself reads the same layout
    assert len(tvd.MNIST(str(root), train=False)) == 5


def test_cifar10_download_from_local_server(tiny_cifar, tmp_path):
    root = tmp_path / "data"
    data.fetch("cifar10", root)
    assert sorted(p.name for p in (root / data.CIFAR_FOLDER).iterdir()) == sorted(data.CIFAR_FILES)
    assert all_files(root)[0] == data.CIFAR_FOLDER  # no tarball or staging folder left behind
    X, y = data.load_numpy("cifar10", "test", root)
    assert X.shape == (4, 32, 32, 3) and X.dtype == np.uint8
    expected = tiny_cifar["test_batch"]["data"].reshape(4, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(X, expected)
    np.testing.assert_array_equal(y, tiny_cifar["test_batch"]["labels"])
    X_train, _ = data.load_numpy("cifar10", "train", root)
    assert X_train.shape == (20, 32, 32, 3)


def test_checksum_mismatch_keeps_nothing(tiny_mnist, tmp_path):
    www, _ = tiny_mnist
    (www / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"tampered"))
    root = tmp_path / "data"
    root.mkdir()
    with pytest.raises(data.DataUnavailable) as caught:
        data.fetch("mnist", root)
    # the fix names the folder that was searched, not the default data root
    assert f"python -m widgets.data fetch mnist --root {root}" in str(caught.value)
    assert all_files(root) == []


def test_offline_download_explains_in_one_paragraph_and_writes_nothing(offline, tmp_path):
    root = tmp_path / "data"
    for name in ("mnist", "cifar10"):
        with pytest.raises(data.DataUnavailable) as caught:
            data.fetch(name, root)
        message = str(caught.value)
        assert "\n" not in message, "one paragraph, not a traceback"
        assert "could not be reached" in message and f"fetch {name} --root {root}" in message
    assert not root.exists() or all_files(root) == []


def test_cli_reports_failure_with_exit_code(offline, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(data.DATA_ROOT_ENV, str(tmp_path / "data"))
    assert data.main(["fetch", "mnist"]) == 1
    assert "MNIST: not available" in capsys.readouterr().err
    assert data.main(["fetch", "mnist", "--optional"]) == 0


# --------------------------------------------------------------------------- Fashion-MNIST


@pytest.fixture(scope="module")
def seeded_root(tmp_path_factory):
    if not data.DEBIAN_FASHION_MNIST.is_dir():
        pytest.fail(
            "Debian's dataset-fashion-mnist package is missing: `make test` installs it "
            "(apt-get install dataset-fashion-mnist)"
        )
    root = tmp_path_factory.mktemp("fashion")
    data.fetch("fashion-mnist", root, download=False)
    return root


def test_fashion_mnist_seeded_from_debian_with_published_content(seeded_root):
    raw = seeded_root / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(data.IDX_FILES)
    for name, digest in data.FASHION_MNIST_SHA256.items():
        assert hashlib.sha256((raw / name).read_bytes()).hexdigest() == digest
    X, y = data.load_numpy("fashion-mnist", "test", seeded_root)
    assert X.shape == (10_000, 28, 28) and y.shape == (10_000,)
    assert np.bincount(y).tolist() == [1000] * 10


def test_truncated_fashion_file_is_detected_and_reseeded(seeded_root):
    path = seeded_root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    problem = data.presence_problem("fashion-mnist", seeded_root)
    assert "damaged" in problem and "t10k-labels-idx1-ubyte" in problem and "truncated" in problem
    _, y = data.load_numpy("fashion-mnist", "test", seeded_root)  # heals itself
    assert y.shape == (10_000,)
    assert data.is_present("fashion-mnist", seeded_root)


def test_corrupt_debian_archive_is_reported_and_nothing_kept(tmp_path, monkeypatch):
    fake = tmp_path / "debian"
    fake.mkdir()
    for name in data.IDX_FILES:
        (fake / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28)))))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", fake)
    root = tmp_path / "data"
    with pytest.raises(data.DataUnavailable, match="does not hold the published Fashion-MNIST"):
        data.fetch("fashion-mnist", root, download=False)
    assert not root.exists() or all_files(root) == []


def test_mnist_falls_back_to_fashion_mnist_in_one_sentence(seeded_root, capsys):
    X, _ = data.load_numpy("mnist", "test", seeded_root)
    said = capsys.readouterr().out.strip()
    assert said.count("\n") == 0 and "uses Fashion-MNIST instead" in said
    assert X.shape == (10_000, 28, 28)
    with pytest.raises(data.DataUnavailable, match="MNIST is not in"):
        data.load_numpy("mnist", "test", seeded_root, fallback=False)


def test_missing_fashion_mnist_without_debian_package_explains(no_debian_package, tmp_path):
    with pytest.raises(data.DataUnavailable) as caught:
        data.load_numpy("fashion-mnist", root=tmp_path)
    assert "apt-get install dataset-fashion-mnist" in str(caught.value)


def test_check_idx_file_rejects_bad_magic_and_padding(tmp_path):
    good = idx_bytes(np.zeros((2, 3), dtype=np.uint8))
    (tmp_path / "good").write_bytes(good)
    assert dataset_files.check_idx_file(tmp_path / "good") == 2
    (tmp_path / "padded").write_bytes(good + b"\0")
    with pytest.raises(ValueError, match="promises"):
        dataset_files.check_idx_file(tmp_path / "padded")
    (tmp_path / "html").write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match="magic"):
        dataset_files.check_idx_file(tmp_path / "html")


def write_idx_dataset(root: Path, folder: str, images: np.ndarray, labels: np.ndarray) -> Path:
    """The four IDX files of ``<root>/<folder>/raw``, train and test holding the same arrays."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        (raw / f"{split}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    return raw


def test_idx_labels_out_of_range_are_refused_with_file_and_fix(tmp_path):
    labels = np.array([0, 3, 198, 9], dtype=np.uint8)
    raw = write_idx_dataset(tmp_path, "MNIST", np.zeros((4, 28, 28), np.uint8), labels)
    problem = data.presence_problem("mnist", tmp_path)
    assert "damaged" in problem and "label 198" in problem and "0..9" in problem
    assert str(raw / "train-labels-idx1-ubyte") in problem
    with pytest.raises(data.DataUnavailable, match="label 198") as caught:
        data.load_numpy("mnist", "test", tmp_path, fallback=False)
    assert f"--root {tmp_path}" in str(caught.value)


@pytest.mark.parametrize(
    ("images", "labels", "complaint"),
    [
        (np.zeros((4, 784)), np.zeros(4), "shape 784, not the 28 x 28"),
        (np.zeros((4, 28, 28, 3)), np.zeros(4), "shape 28 x 28 x 3"),
        (np.zeros((4, 28, 28)), np.zeros((4, 2)), "4 x 2 array, not one label per image"),
        (np.zeros((4, 28, 28)), np.zeros(5), "4 train images but 5 labels"),
    ],
)
def test_structurally_valid_idx_files_of_the_wrong_shape_are_refused(
    tmp_path, monkeypatch, no_debian_package, images, labels, complaint
):
    write_idx_dataset(tmp_path, "FashionMNIST", images, labels)
    with pytest.raises(data.DataUnavailable, match=complaint) as caught:
        data.load_numpy("fashion-mnist", "train", tmp_path)
    assert "FashionMNIST" in str(caught.value)
    # the torch loaders used to crash deep inside permute() on such files
    from widgets.torch_training import load_tensors

    monkeypatch.setenv(data.DATA_ROOT_ENV, str(tmp_path))
    with pytest.raises(data.DataUnavailable, match=complaint):
        load_tensors("fashion-mnist", "train")


def test_how_to_fix_names_the_root_that_was_searched(tmp_path, no_debian_package):
    for name in ("mnist", "cifar10", "fashion-mnist"):
        with pytest.raises(data.DataUnavailable) as caught:
            data.load_numpy(name, "test", tmp_path, fallback=False)
        message = str(caught.value)
        assert f"python -m widgets.data fetch {name} --root {tmp_path}" in message
        assert str(data.data_root()) not in message


def test_cli_fetches_into_the_given_root(tiny_mnist, tmp_path, capsys):
    root = tmp_path / "elsewhere"
    assert data.main(["fetch", "mnist", "--root", str(root)]) == 0
    assert data.is_present("mnist", root)
    assert data.main(["status", "--root", str(root)]) == 0
    assert f"data root: {root}" in capsys.readouterr().out


def write_cifar(root: Path, batch) -> Path:
    """A CIFAR-10 folder whose every batch file holds ``batch`` (any picklable object)."""
    folder = root / data.CIFAR_FOLDER
    folder.mkdir(parents=True)
    for name in data.CIFAR_FILES:
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


class NotABatch:
    """A class a CIFAR batch never holds: loading it would run this module's code."""


@pytest.mark.parametrize(
    ("batch", "complaint"),
    [
        ([1, 2, 3], "expected a dict with 'data' and 'labels', found list"),
        ({"data": np.zeros((2, 3072), np.uint8)}, "found \\['data'\\]"),
        ({"data": np.zeros(1000, np.uint8), "labels": [0]}, r"shape \(1000,\)"),
        ({"data": np.zeros((2, 1000), np.uint8), "labels": [0, 1]}, r"\(N, 3072\)"),
        ({"data": np.zeros((2, 3072)), "labels": [0, 1]}, "float64"),
        ({"data": np.full((2, 3072), 300), "labels": [0, 1]}, "outside 0..255"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, "expected 2 whole numbers"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": ["cat", "dog"]}, "whole numbers"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]}, "values 0..10"),
        ({"data": [[0] * 3072, [0]], "labels": [0, 1]}, "not an array|shape"),
        ({"data": NotABatch(), "labels": [0]}, "which a CIFAR-10 batch never holds"),
    ],
)
def test_cifar_batches_with_unexpected_content_are_refused(tmp_path, batch, complaint):
    folder = write_cifar(tmp_path, batch)
    with pytest.raises(data.DataUnavailable, match=complaint) as caught:
        data.load_numpy("cifar10", "test", tmp_path)
    message = str(caught.value)
    assert str(folder / "test_batch") in message
    assert f"Delete the folder {folder}" in message and f"--root {tmp_path}" in message


def test_a_cifar_file_claiming_a_huge_length_is_refused_without_allocating_it(tmp_path):
    # Found by Hypothesis: BYTEARRAY8 announcing 2**56 bytes made pickle raise MemoryError.
    path = tmp_path / "test_batch"
    path.write_bytes(b"\x96\x00\x00\x00\x00\x00\x00\x00\x01")
    with pytest.raises(ValueError, match="not a readable CIFAR-10 batch .*only 0 remain"):
        dataset_files.read_cifar_batch(path)


def test_a_cifar_batch_is_read_into_images_and_labels(tmp_path):
    rng = np.random.default_rng(2)
    batch = {"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), "labels": [4, 0, 9]}
    write_cifar(tmp_path, batch)
    X, y = data.load_numpy("cifar10", "train", tmp_path)
    assert X.shape == (15, 32, 32, 3) and y.tolist() == [4, 0, 9] * 5
    np.testing.assert_array_equal(X[1], batch["data"][1].reshape(3, 32, 32).transpose(1, 2, 0))


def test_idx_file_without_dimensions_is_refused(tmp_path):
    (tmp_path / "flat").write_bytes(bytes([0, 0, 8, 0]))
    with pytest.raises(ValueError, match="no dimensions"):
        dataset_files.check_idx_file(tmp_path / "flat")


# --------------------------------------------------------------------------- toy data


def test_gates_have_the_truth_tables():
    for gate, function in {
        "AND": lambda a, b: a & b,
        "OR": lambda a, b: a | b,
        "NAND": lambda a, b: 1 - (a & b),
        "XOR": lambda a, b: a ^ b,
    }.items():
        X, y = toy_data.make_gate(gate)
        assert [function(int(a), int(b)) for a, b in X] == y.tolist()
    with pytest.raises(ValueError, match="unknown gate"):
        toy_data.make_gate("XNOR")


@pytest.mark.parametrize(
    "maker",
    [toy_data.make_blobs, toy_data.make_moons, toy_data.make_circles, toy_data.make_spirals],
)
def test_toy_data_is_seeded_and_balanced(maker):
    X1, y1 = maker(seed=3)
    X2, y2 = maker(seed=3)
    X3, _ = maker(seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.shape == (len(y1), 2)
    counts = np.bincount(y1)
    assert counts.max() - counts.min() <= 1


def test_blobs_are_linearly_separable_and_circles_are_not_by_a_line():
    for seed in range(5):
        X, y = toy_data.make_blobs(200, seed=seed)
        # the diagonal x1 + x2 = 0 separates them, with at least the default margin
        signed_distance = np.where(y == 1, 1, -1) * X.sum(axis=1) / np.sqrt(2)
        assert signed_distance.min() >= 0.25
    X, y = toy_data.make_circles(200, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.all((radius < 0.75) == (y == 1))


def test_xor_points_are_labelled_by_their_quadrant():
    X, y = toy_data.make_xor(400, seed=1)
    assert X.shape == (400, 2) and np.abs(X).max() <= 1.0
    assert np.abs(X).min() >= 0.05  # the clean data keeps clear of both axes
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) == np.sign(X[:, 1])).astype(int))
    assert 150 < y.sum() < 250
    noisy, noisy_labels = toy_data.make_xor(400, noise=0.3, seed=1)
    np.testing.assert_array_equal(noisy_labels, y)  # noise moves points, not labels
    assert 0.2 < np.std(noisy - X) < 0.4


def test_regression_targets_are_the_named_functions():
    X, y = toy_data.make_regression("sine", 300, seed=2)
    np.testing.assert_allclose(y, np.sin(np.pi * X[:, 0]))
    X, y = toy_data.make_regression("plane", 300, seed=2)
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 2)
    X, y = toy_data.make_regression("bumps", 300, seed=2)
    assert y.max() <= 1.0 and y.min() >= -1.0
    hill, pit = toy_data.REGRESSION_FUNCTIONS["bumps"](np.array([0.5, -0.5]), np.array([0.5, -0.5]))
    assert hill > 0.99 and pit < -0.99
    _, noisy = toy_data.make_regression("plane", 300, noise=0.1, seed=2)
    assert 0.07 < np.std(noisy - (X[:, 0] + X[:, 1]) / 2) < 0.13
    with pytest.raises(ValueError, match="unknown function"):
        toy_data.make_regression("spline")
