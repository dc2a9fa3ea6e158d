"""Peak memory of each lesson notebook's kernel, and how much of it PyTorch's import is.

    python bench/bench_memory.py [--budget-mb 1200] [--python PYTHON] [NOTEBOOK ...]

Each lesson runs once, top to bottom, in a fresh kernel, as a student's "Run All" does.
Two figures per lesson:

* kernel peak: the kernel process's own peak resident memory (getrusage's ru_maxrss,
  exact, however short the peak);
* with workers: the peak of the kernel and its child processes together (DataLoader
  workers), sampled every 50 ms, counting pages the children share with the kernel
  once per process (so an upper bound).

Binder gives a user 2 GB in all; the course's budget is 1.2 GB per open lesson. The
import figure is measured in a kernel of its own: resident memory before and after
``import torch, torchvision``. Exits 1 when a lesson's kernel peak is over budget with
the CPU-only build (with a CUDA build it reports, and points to ``--python``).

``--python`` runs the kernels with another environment's interpreter (the course's
package is imported from this checkout): e.g. one made by ``bench/cpu_torch_env.py`` with
PyTorch's CPU-only build, the build the budget is about.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
MB = 1e6

# Appended to each notebook: the kernel's own peak resident memory, in bytes.
PEAK_CELL = """\
import sys
try:
    import resource
    _peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(_peak if sys.platform == "darwin" else _peak * 1024)  # macOS: bytes; Linux: KiB
except ImportError:  # Windows
    import psutil
    print(psutil.Process().memory_info().peak_wset)
"""
RSS_CELL = "import psutil; print(psutil.Process().memory_info().rss)"


class TreeSampler:
    """Peak resident memory of a process and its children, sampled in the background."""

    def __init__(self, pid: int, interval_s: float = 0.05):
        self.process = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                members = [self.process, *self.process.children(recursive=True)]
                total = 0
                for member in members:
                    try:
                        total += member.memory_info().rss
                    except psutil.Error:
                        pass  # a worker that just ended
                self.peak = max(self.peak, total)
            except psutil.Error:
                return
            self._stop.wait(self.interval_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


KERNEL = "python3"  # or, with --python, a kernel spec written by use_python()


def kernel_environment() -> dict[str, str]:
    # as `make test` and `make lab` run notebooks: matplotlib picks its inline backend
    environment = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    # this checkout's widgets, also in a kernel of another environment
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return environment


def use_python(python: Path, specs: Path) -> None:
    """Run the kernels with ``python``: a kernel spec for it in ``specs``, found first."""
    folder = specs / "kernels" / "bench-python"
    folder.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": f"bench {python}", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(specs), *filter(None, [os.environ.get("JUPYTER_PATH")])]
    )
    global KERNEL
    KERNEL = "bench-python"


def last_stdout(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.get("name") == "stdout")


def run_cells(notebook, workdir: Path, on_kernel=None, after_cell=None):
    """Execute every cell in a fresh kernel; ``on_kernel(pid)`` gives a context to run in,
    ``after_cell(index, context)`` is called after each cell."""
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(workdir)}},
    )
    with client.setup_kernel(env=kernel_environment()):
        pid = client.km.provisioner.pid
        context = on_kernel(pid) if on_kernel else None
        if context:
            context.__enter__()
        try:
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
                if after_cell:
                    after_cell(index, context)
        finally:
            if context:
                context.__exit__(None, None, None)
    return context


def measure_lesson(path: Path) -> dict:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    peak_after_cell = []
    started = time.perf_counter()
    sampler = run_cells(
        notebook,
        path.parent,
        on_kernel=TreeSampler,
        after_cell=lambda index, sampler: peak_after_cell.append(sampler.peak),
    )
    kernel_peak = int(last_stdout(notebook.cells[-1]).split()[-1])
    # which cells raised the (sampled) peak most: where to look when a lesson is too big
    raises = sorted(
        (
            (later - earlier, index)
            for index, (earlier, later) in enumerate(
                zip([0, *peak_after_cell], peak_after_cell, strict=False)
            )
            if notebook.cells[index].cell_type == "code"
        ),
        reverse=True,
    )[:3]
    return {
        "kernel_peak": kernel_peak,
        "tree_peak": max(sampler.peak, kernel_peak),
        "seconds": time.perf_counter() - started,
        "top_cells": [
            (grown, notebook.cells[index].source.strip().splitlines()[0][:60])
            for grown, index in raises
        ],
    }


def measure_torch_import() -> tuple[str, list[int]]:
    """The kernel's PyTorch build, and its resident memory fresh, after ``import torch``,
    after ``import torchvision``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(RSS_CELL),
        nbformat.v4.new_code_cell("import torch\n" + RSS_CELL),
        nbformat.v4.new_code_cell("import torchvision\n" + RSS_CELL),
        nbformat.v4.new_code_cell(
            "print('PyTorch', torch.__version__,"
            " '(CUDA build)' if torch.version.cuda else '(CPU-only build)')"
        ),
    ]
    run_cells(notebook, LESSONS)
    build = last_stdout(notebook.cells[-1]).strip()
    return build, [int(last_stdout(cell).split()[-1]) for cell in notebook.cells[:3]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--budget-mb", type=float, default=1200)
    parser.add_argument(
        "--cells", action="store_true", help="also name the three cells that raised the peak most"
    )
    parser.add_argument("--python", type=Path, help="run the kernels with this interpreter")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(LESSONS.glob("[0-9][0-9]-*.ipynb"))
    with tempfile.TemporaryDirectory() as specs:
        if args.python:
            use_python(args.python, Path(specs))
        return measure(paths, args)


def measure(paths: list[Path], args) -> int:
    build, (fresh, with_torch, with_torchvision) = measure_torch_import()
    print(f"{build}, {psutil.cpu_count()} CPUs", flush=True)
    print(
        f"fresh kernel {fresh / MB:.0f} MB; `import torch` +{(with_torch - fresh) / MB:.0f} MB, "
        f"then `import torchvision` +{(with_torchvision - with_torch) / MB:.0f} MB",
        flush=True,
    )
    print(f"{'lesson':32s} {'kernel peak':>12s} {'with workers':>13s} {'run':>6s}")
    over = []
    for path in paths:
        result = measure_lesson(path)
        flag = ""
        if result["kernel_peak"] > args.budget_mb * MB:
            over.append(path.name)
            flag = f"  over the {args.budget_mb:.0f} MB budget"
        print(
            f"{path.name:32s} {result['kernel_peak'] / MB:9.0f} MB {result['tree_peak'] / MB:10.0f}"
            f" MB {result['seconds']:5.0f} s{flag}",
            flush=True,
        )
        if args.cells:
            for grown, first_line in result["top_cells"]:
                print(f"    +{grown / MB:5.0f} MB  {first_line}", flush=True)
    if over and "CUDA" in build:
        # The budget is about the CPU-only build Binder, conda and `--torch cpu` install;
        # this build's import alone is about 500 MB larger (see the import line above).
        print(
            f"over budget with this CUDA build: {', '.join(over)}. The budget is for the "
            "CPU-only build: measure it with --python (see bench/cpu_torch_env.py)."
        )
        return 0
    if over:
        print(f"over budget: {', '.join(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
