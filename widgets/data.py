"""Data for the course: image datasets on disk (toy data sets: ``widgets.toy_data``).

One data root (``datasets/`` in the repository, or ``$NN_COURSE_DATA``) holds
torchvision's layout, so ``torchvision.datasets.FashionMNIST(root)`` works on it too::

    <root>/FashionMNIST/raw/train-images-idx3-ubyte ...   (4 IDX files)
    <root>/MNIST/raw/...                                  (4 IDX files)
    <root>/cifar-10-batches-py/data_batch_1 ...           (python pickles)

Fashion-MNIST is seeded offline from Debian's ``dataset-fashion-mnist`` package when
it is installed, else downloaded by torchvision. MNIST and CIFAR-10 come from
torchvision's checksummed download. Every write goes to a temporary folder that is
renamed into place only once its content is verified, so an interrupted or failed
fetch never leaves an empty or partial folder behind.

Command line: ``python -m widgets.data fetch {fashion-mnist,mnist,cifar10,all}``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from widgets.dataset_files import (
    check_idx_folder,
    read_cifar_batch,
    read_idx,
)

DATA_ROOT_ENV = "NN_COURSE_DATA"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
_REPO_DATA_ROOT = Path(__file__).resolve().parent.parent / "datasets"

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# sha256 of the *uncompressed* IDX files. Debian recompressed the .gz files, so
# torchvision's md5 list of the archives does not match them; the content does.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

CLASS_NAMES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "cifar10": [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ],
}

CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


class DataUnavailable(RuntimeError):
    """A dataset could not be found or fetched. The message is one paragraph for a person."""


@dataclass(frozen=True)
class _IdxDataset:
    name: str
    folder: str  # torchvision's class name, which is its folder name

    def raw_dir(self, root: Path) -> Path:
        return root / self.folder / "raw"


_IDX_DATASETS = {
    "mnist": _IdxDataset("mnist", "MNIST"),
    "fashion-mnist": _IdxDataset("fashion-mnist", "FashionMNIST"),
}
DATASETS = ("fashion-mnist", "mnist", "cifar10")


def data_root() -> Path:
    """The folder that holds every dataset: ``$NN_COURSE_DATA``, else the repo's ``datasets/``."""
    return Path(os.environ.get(DATA_ROOT_ENV) or _REPO_DATA_ROOT).expanduser().resolve()


def _how_to_fix(name: str, root: Path) -> str:
    """How to get ``name`` into ``root``, the folder that was actually searched."""
    extra = ""
    if name == "fashion-mnist":
        extra = (
            " Offline on Debian or Ubuntu, `sudo apt-get install dataset-fashion-mnist` "
            "provides it without a download."
        )
    if Path(root).resolve() == data_root():
        command = f"`make data` (or `python -m widgets.data fetch {name}`)"
        where = f"the files land in {root} (set {DATA_ROOT_ENV} to use another folder)"
    else:  # a root= argument: `make data` would fill the default folder, not this one
        command = f"`python -m widgets.data fetch {name} --root {root}`"
        where = f"the files land in {root}, the folder given as root="
    return f"To fix it, run {command} on a machine that is online; {where}.{extra}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def staging_dir(final: Path):
    """A temporary sibling of ``final``; removed on failure, never left half-written.

    Parent folders created for it are removed again when nothing was moved into them,
    so a failed fetch leaves the data root exactly as it found it.
    """
    created = [parent for parent in (final.parent, *final.parent.parents) if not parent.exists()]
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the data is for every user of the machine
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for parent in created:  # innermost first
            with contextlib.suppress(OSError):
                parent.rmdir()  # only succeeds when empty


def replace_dir(staged: Path, final: Path) -> None:
    """Move a verified folder into place, replacing whatever (broken) folder was there."""
    if final.exists():
        trash = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, trash)
        os.replace(staged, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staged, final)


# --------------------------------------------------------------------------- presence
def is_present(name: str, root: Path | None = None) -> bool:
    """True when the dataset's files are on disk and structurally sound (cheap check)."""
    return presence_problem(name, Path(root) if root else data_root()) is None


def presence_problem(name: str, root: Path) -> str | None:
    """Why ``name`` cannot be used from ``root`` (missing or damaged files), or None if it can."""
    try:
        _check_present(name, root)
    except FileNotFoundError:
        return f"{_pretty(name)} is not in {root}"
    except (OSError, ValueError) as error:
        return f"{_pretty(name)} in {root} is damaged ({error})"
    return None


def _check_present(name: str, root: Path) -> None:
    if name in _IDX_DATASETS:
        check_idx_folder(_IDX_DATASETS[name].raw_dir(root))
    elif name == "cifar10":
        folder = root / CIFAR_FOLDER
        for file in CIFAR_FILES:
            if (folder / file).stat().st_size == 0:
                raise ValueError(f"{folder / file} is empty")
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


# --------------------------------------------------------------------------- fetching
def fetch(name: str, root: Path | None = None, *, download: bool = True) -> Path:
    """Make ``name`` available under the data root and return the root.

    Already present and sound: nothing to do. Fashion-MNIST is seeded from Debian's
    package when installed. Otherwise torchvision downloads it (if ``download``).
    Raises :class:`DataUnavailable` with a one-paragraph explanation on failure.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    root = Path(root) if root else data_root()
    if is_present(name, root):
        return root
    if name == "fashion-mnist" and DEBIAN_FASHION_MNIST.is_dir():
        seed_fashion_mnist_from_debian(root)
        return root
    if not download:
        raise DataUnavailable(f"{presence_problem(name, root)}. {_how_to_fix(name, root)}")
    if name == "cifar10":
        _download_cifar10(root)
    else:
        _download_idx(name, root)
    return root


def seed_fashion_mnist_from_debian(root: Path, source: Path | None = None) -> None:
    """Unpack Debian's Fashion-MNIST into torchvision's layout, verifying every file's sha256."""
    source = source or DEBIAN_FASHION_MNIST
    raw = _IDX_DATASETS["fashion-mnist"].raw_dir(root)
    with staging_dir(raw) as staged:
        for file, expected in FASHION_MNIST_SHA256.items():
            archive = source / f"{file}.gz"
            try:
                with gzip.open(archive, "rb") as src, open(staged / file, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (OSError, EOFError) as error:
                raise DataUnavailable(
                    f"Could not unpack {archive} from Debian's dataset-fashion-mnist package "
                    f"({error}). Reinstall it with `sudo apt-get install --reinstall "
                    f"dataset-fashion-mnist`. {_how_to_fix('fashion-mnist', root)}"
                ) from None
            actual = _sha256(staged / file)
            if actual != expected:
                raise DataUnavailable(
                    f"{archive} does not hold the published Fashion-MNIST data (sha256 "
                    f"{actual[:12]}..., expected {expected[:12]}...). Reinstall the package "
                    f"with `sudo apt-get install --reinstall dataset-fashion-mnist`."
                )
        check_idx_folder(staged)
        replace_dir(staged, raw)


def _torchvision_class(name: str):
    import torchvision.datasets as tvd

    return {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[name]


def _run_torchvision_download(name: str, staging_root: Path, root: Path) -> None:
    """torchvision's own download (checksummed), its chatter captured for our message."""
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            _torchvision_class(name)(root=str(staging_root), download=True)
    except Exception as error:  # network errors, checksum errors, bad archives alike
        reason = _first_reason(chatter.getvalue(), error)
        raise DataUnavailable(
            f"Downloading {_pretty(name)} failed: {reason}. This machine may be offline "
            f"or the server unreachable. Nothing was kept. "
            f"{_how_to_fix(name, root)}"
        ) from None


def _first_reason(chatter: str, error: Exception) -> str:
    """One line out of torchvision's multi-line errors: the network's reason if there is one."""
    text = f"{chatter}\n{error}"
    network = re.search(r"urlopen error (.*?)>", text)
    if network:
        return f"the server could not be reached ({network.group(1).strip()})"
    return " ".join(f"{type(error).__name__}: {error}".split()).rstrip(".")


def _download_idx(name: str, root: Path) -> None:
    raw = _IDX_DATASETS[name].raw_dir(root)
    with staging_dir(raw) as staged_root:
        _run_torchvision_download(name, staged_root, root)
        staged_raw = _IDX_DATASETS[name].raw_dir(staged_root)
        try:
            check_idx_folder(staged_raw)
        except (OSError, ValueError) as error:
            raise DataUnavailable(
                f"The downloaded {_pretty(name)} files are damaged ({error}). "
                f"Nothing was kept. {_how_to_fix(name, root)}"
            ) from None
        for archive in staged_raw.glob("*.gz"):  # the IDX files are what torchvision reads
            archive.unlink()
        replace_dir(staged_raw, raw)


def _download_cifar10(root: Path) -> None:
    final = root / CIFAR_FOLDER
    with staging_dir(final) as staged_root:
        _run_torchvision_download("cifar10", staged_root, root)
        replace_dir(staged_root / CIFAR_FOLDER, final)


def _pretty(name: str) -> str:
    return {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}[name]


# --------------------------------------------------------------------------- first use
OFFLINE_ENV = "NN_COURSE_OFFLINE"


def fetch_on_first_use(name: str, root: Path) -> None:
    """Fetch a dataset the first time a lesson needs it, so no separate data step is needed
    (conda, Binder, a fresh clone). Raises :class:`DataUnavailable` when it cannot be had;
    with ``$NN_COURSE_OFFLINE`` set (a classroom without internet, the test suite) it
    attempts no download at all.
    """
    if os.environ.get(OFFLINE_ENV):
        raise DataUnavailable(f"{_pretty(name)} is not downloaded: ${OFFLINE_ENV} is set")
    if not (name == "fashion-mnist" and DEBIAN_FASHION_MNIST.is_dir()):
        print(f"{_pretty(name)} is not in {root} yet: downloading it once.", flush=True)
    fetch(name, root)


# --------------------------------------------------------------------------- loading
def resolve_dataset(name: str, root: Path | None = None, *, fallback: bool = True) -> str:
    """The dataset that will actually be used for ``name``.

    MNIST falls back to Fashion-MNIST (same shape and format) when it is not on disk,
    saying so in one sentence. Fashion-MNIST is seeded from Debian's package on demand.
    """
    root = Path(root) if root else data_root()
    problem = presence_problem(name, root)
    if problem is None:
        return name
    with contextlib.suppress(DataUnavailable):  # when it cannot be had: explained below
        fetch_on_first_use(name, root)
        return name
    if name == "fashion-mnist":
        fetch(name, root, download=False)  # re-seeds from Debian's package, or explains
        return name
    if name == "mnist" and fallback:
        print(
            f"{problem} (run `make data` online to fetch it), so this notebook uses "
            "Fashion-MNIST instead: the same format, 28x28 grey images in 10 classes."
        )
        return resolve_dataset("fashion-mnist", root)
    raise DataUnavailable(f"{problem}. {_how_to_fix(name, root)}")


def load_numpy(
    name: str = "fashion-mnist",
    split: str = "train",
    root: Path | None = None,
    *,
    fallback: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels as numpy arrays: ``X`` uint8 (N, 28, 28) or (N, 32, 32, 3), ``y`` int64.

    ``split`` is "train" or "test". See :func:`resolve_dataset` for the MNIST fallback.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    root = Path(root) if root else data_root()
    name = resolve_dataset(name, root, fallback=fallback)
    if name == "cifar10":
        return _load_cifar10(root, split)
    raw = _IDX_DATASETS[name].raw_dir(root)
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(raw / f"{prefix}-images-idx3-ubyte")
    labels = read_idx(raw / f"{prefix}-labels-idx1-ubyte").astype(np.int64)
    return images, labels


def _load_cifar10(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    files = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    images, labels = [], []
    for file in files:
        path = root / CIFAR_FOLDER / file
        try:
            batch_images, batch_labels = read_cifar_batch(path)
        except (OSError, ValueError) as error:
            raise DataUnavailable(
                f"{error}. Delete the folder {root / CIFAR_FOLDER} and fetch CIFAR-10 again. "
                f"{_how_to_fix('cifar10', root)}"
            ) from None
        images.append(batch_images)
        labels.append(batch_labels)
    return np.concatenate(images), np.concatenate(labels)


def torch_dataset(
    name: str = "fashion-mnist",
    train: bool = True,
    transform=None,
    root: Path | None = None,
    *,
    fallback: bool = True,
):
    """The torchvision dataset object for ``name`` (never downloads; see :func:`fetch`)."""
    root = Path(root) if root else data_root()
    name = resolve_dataset(name, root, fallback=fallback)
    return _torchvision_class(name)(root=str(root), train=train, transform=transform)


# --------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m widgets.data", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="make datasets available under the data root")
    fetch_cmd.add_argument("names", nargs="+", choices=[*DATASETS, "all"])
    fetch_cmd.add_argument("--root", type=Path, help=f"the data folder (default: {data_root()})")
    fetch_cmd.add_argument(
        "--optional",
        action="store_true",
        help="report datasets that cannot be had, but exit 0 (for offline setups)",
    )
    status_cmd = commands.add_parser("status", help="list which datasets are present")
    status_cmd.add_argument("--root", type=Path, help="the data folder (default: the data root)")
    args = parser.parse_args(argv)
    root = args.root.expanduser().resolve() if args.root else data_root()

    if args.command == "status":
        for name in DATASETS:
            state = "present" if is_present(name, root) else "missing"
            print(f"{_pretty(name):14s} {state}")
        print(f"data root: {root}")
        return 0

    names = list(DATASETS) if "all" in args.names else list(dict.fromkeys(args.names))
    failed = []
    for name in names:
        try:
            fetch(name, root)
            print(f"{_pretty(name)}: ready in {root}")
        except DataUnavailable as error:
            failed.append(name)
            print(f"{_pretty(name)}: not available.\n  {error}\n", file=sys.stderr)
    return 0 if (not failed or args.optional) else 1


if __name__ == "__main__":
    sys.exit(main())
