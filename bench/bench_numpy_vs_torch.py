"""Epoch time and peak memory: lesson 4's NumPy network against the same network in PyTorch.

    .venv/bin/python bench/bench_numpy_vs_torch.py [--rounds 3] [--threads 1]

Both train a 784-256-128-10 ReLU network with Adam (lr 1e-3), batch 128, float32, on all
60,000 Fashion-MNIST training images, reshuffled every epoch. PyTorch runs in CPU eager
mode, written as a careful user would: the data set is one tensor in memory and each
batch is gathered by indexing it (no DataLoader, whose per-image collation would make
PyTorch look slower than it is). Epochs alternate between the two (NumPy, PyTorch,
NumPy, ...) so that a change in the machine's load hits both; the median of each is
compared. The last line is ``numpy/torch epoch time ratio: X.XX``.

Threads: by default both libraries get one thread (``--threads 1``). On a machine whose
cores are shared with other programs, BLAS and OpenMP threads that spin while waiting for
a busy core can make two threads many times slower than one, for both libraries, which
would turn the ratio into noise. ``--threads 2`` (or ``0`` for each library's default)
measures the multi-threaded case on a quiet machine.

Peak memory is measured in two fresh processes, one per library, after the data is loaded
and the library imported (so neither the shared 188 MB float32 data set nor the import is
counted), as the growth of the resident set: Linux's peak (VmHWM, reset through
/proc/self/clear_refs) minus the size before. It is reported for building the model plus
training (20 batches, then a full epoch) and for the full epoch alone, the steady-state
working set. The first part also counts library code first touched by training (PyTorch
loads CPU kernels and Python modules such as torch._dynamo lazily). For NumPy the peak of
Python's ``tracemalloc`` counts exactly the bytes of NumPy arrays; PyTorch's CPU allocator
bypasses ``tracemalloc``, so the resident set is the measure the two share. Without /proc
(not Linux) memory reads n/a.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (784, 256, 128, 10)
BATCH_SIZE = 128
LEARNING_RATE = 1e-3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed epochs per library, alternating (default 3)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for both libraries; 0 = each library's default (default 1)",
    )
    parser.add_argument(
        "--memory", choices=("numpy", "torch"), help=argparse.SUPPRESS
    )  # internal: measure one library's memory
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 0:
        parser.error("--rounds must be >= 1 and --threads >= 0")
    return args


def limit_threads_before_imports(threads: int) -> None:
    """Thread counts that libraries read once, when they load: set before importing them."""
    if threads:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(threads)


def load_training_data():
    from widgets import numpy_nn
    from widgets.data import load_numpy

    images, labels = load_numpy("fashion-mnist", "train")
    return numpy_nn.prepare_images(images), labels


# --------------------------------------------------------------------------- the two trainers
class NumpyTrainer:
    name = "numpy"

    def __init__(self, X, y, seed=0):
        import numpy as np

        from widgets import numpy_nn

        self.nn, self.X, self.y = numpy_nn, X, y
        self.rng = np.random.default_rng(seed)
        self.model = numpy_nn.mlp(SIZES, rng=self.rng)
        self.loss = numpy_nn.SoftmaxCrossEntropy()
        self.optimizer = numpy_nn.Adam(
            self.model.parameters(), self.model.gradients(), lr=LEARNING_RATE
        )

    def epoch(self, limit=None):
        X, y = (self.X, self.y) if limit is None else (self.X[:limit], self.y[:limit])
        loss, _ = self.nn.train_epoch(
            self.model, self.loss, self.optimizer, X, y, batch_size=BATCH_SIZE, rng=self.rng
        )
        return loss


class TorchTrainer:
    name = "torch"

    def __init__(self, X, y, seed=0):
        import torch

        torch.manual_seed(seed)
        self.torch = torch
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)  # shares NumPy's memory
        layers = []
        for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        self.loss = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)

    def epoch(self, limit=None):
        n = len(self.X) if limit is None else limit
        order = self.torch.randperm(n)
        total = 0.0
        for start in range(0, n, BATCH_SIZE):
            indices = order[start : start + BATCH_SIZE]
            x_batch, y_batch = self.X[indices], self.y[indices]
            self.optimizer.zero_grad()
            loss = self.loss(self.model(x_batch), y_batch)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(indices)
        return total / n


# --------------------------------------------------------------------------- memory
def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak resident set size
    except OSError:
        return False
    return True


def measure_memory(library: str) -> dict:
    """In this (fresh) process: resident-set growth for building ``library``'s model and
    training, split into the first batches (library warm-up, model, optimizer state) and a
    full epoch after them (the steady-state working set); NumPy's tracemalloc peak."""
    import gc
    import tracemalloc

    X, y = load_training_data()
    if library == "torch":
        import torch  # imported before the baseline: importing a library is not training

        torch.zeros(1)
    gc.collect()
    if not _reset_peak_rss():
        return {"total": None, "steady": None, "tracemalloc_peak": None}
    baseline = _status_kib("VmRSS")
    tracemalloc.start()
    trainer = (NumpyTrainer if library == "numpy" else TorchTrainer)(X, y)
    trainer.epoch(limit=20 * BATCH_SIZE)
    first_peak = _status_kib("VmHWM")
    _reset_peak_rss()
    before_epoch = _status_kib("VmRSS")
    trainer.epoch()
    epoch_peak = _status_kib("VmHWM")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = max(first_peak, epoch_peak) - baseline
    return {
        "total": total * 1024,
        "steady": (epoch_peak - before_epoch) * 1024,
        "tracemalloc_peak": traced_peak,
    }


def memory_in_subprocess(library: str, threads: int) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--memory",
        library,
        "--threads",
        str(threads),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"memory measurement for {library} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def mib(n_bytes) -> str:
    return "n/a" if n_bytes is None else f"{n_bytes / 2**20:.1f} MiB"


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads_before_imports(args.threads)
    sys.path.insert(0, str(ROOT))

    if args.memory:
        print(json.dumps(measure_memory(args.memory)))
        return 0

    import numpy as np
    import torch

    from widgets.notebook import blas_threads, limit_threads

    if args.threads:
        limit_threads(args.threads)
    X, y = load_training_data()
    trainers = [NumpyTrainer(X, y), TorchTrainer(X, y)]
    print(
        f"data: Fashion-MNIST, {len(X)} training images; network "
        f"{'-'.join(map(str, SIZES))}, batch {BATCH_SIZE}, Adam(lr={LEARNING_RATE}), "
        f"float32; NumPy {np.__version__}, PyTorch {torch.__version__} (CPU eager)"
    )
    print(
        f"threads: NumPy's BLAS {blas_threads() or 'not OpenBLAS'}, "
        f"PyTorch {torch.get_num_threads()}; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    for trainer in trainers:  # warm-up: first calls load kernels and fill buffers
        trainer.epoch(limit=20 * BATCH_SIZE)

    times = {trainer.name: [] for trainer in trainers}
    for round_index in range(args.rounds):
        line = []
        for trainer in trainers:
            started = time.perf_counter()
            loss = trainer.epoch()
            seconds = time.perf_counter() - started
            times[trainer.name].append(seconds)
            line.append(f"{trainer.name} {seconds:.2f} s (loss {loss:.3f})")
        print(f"epoch {round_index + 1}: " + ", ".join(line), flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"median epoch time: numpy {median['numpy']:.2f} s, torch {median['torch']:.2f} s")

    numpy_memory = memory_in_subprocess("numpy", args.threads)
    torch_memory = memory_in_subprocess("torch", args.threads)
    print("peak memory beyond the loaded data (growth of the resident set, fresh process each):")
    print(
        f"  numpy: +{mib(numpy_memory['total'])} to build and train (first batches and one "
        f"epoch); the epoch itself +{mib(numpy_memory['steady'])}; tracemalloc peak "
        f"{mib(numpy_memory['tracemalloc_peak'])} (every NumPy array)"
    )
    print(
        f"  torch: +{mib(torch_memory['total'])} to build and train (first batches and one "
        f"epoch); the epoch itself +{mib(torch_memory['steady'])}; the rest is PyTorch "
        "loading code (CPU kernels, Python modules) on first use; its allocator is invisible to "
        "tracemalloc"
    )
    print(f"numpy/torch epoch time ratio: {median['numpy'] / median['torch']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
