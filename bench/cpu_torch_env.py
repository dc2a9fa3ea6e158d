"""Make a virtual environment with PyTorch's CPU-only build, to measure lessons in it.

    python bench/cpu_torch_env.py /tmp/cpu-venv            # build it (a few minutes)
    python bench/bench_memory.py --python /tmp/cpu-venv/bin/python

Why: Binder and most students get the CPU-only build (conda's ``pytorch-cpu``, or
``TORCH=cpu make lab``), whose import is several hundred MB smaller than the CUDA build
pip installs on Linux by default. The memory budget is about that build, so the
benchmark must be able to run the lessons in it.

Where PyTorch's CPU index is reachable, this installs ``torch`` and ``torchvision`` from
it (``--torch-index``). On a machine that only has a CPU ``torch`` wheel in a local
folder (``--torch-wheel``) and PyPI's torchvision, torchvision's compiled operators are
linked against the CUDA build and cannot load, and ``import torchvision`` then fails
registering them. For that case only, the environment gets a ``sitecustomize.py`` that
declares those operators' schemas (copied from the running environment's working
torchvision) with no kernels: importing works, and calling one of them (detection boxes,
RoI pooling: no lesson does) raises PyTorch's "no kernel" error. Memory-wise this is the
CPU build minus torchvision's small CPU operator library.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

SITECUSTOMIZE = '''\
"""Written by bench/cpu_torch_env.py: torchvision's compiled operators (built for PyTorch's
CUDA build) cannot load beside this CPU-only PyTorch, so their schemas are declared,
without kernels, just before torchvision is first imported (not at every start: a fresh
kernel's memory must stay a fresh kernel's). See that file for why."""
import sys


class _DeclareTorchvisionOperators:
    def find_spec(self, name, path=None, target=None):
        global _LIBRARY
        if name == "torchvision":
            sys.meta_path.remove(self)
            import torch

            _LIBRARY = torch.library.Library("torchvision", "DEF")  # lives with the process
            for schema in {schemas!r}:
                _LIBRARY.define(schema)
        return None  # the normal import goes on


sys.meta_path.insert(0, _DeclareTorchvisionOperators())
'''


def torchvision_schemas() -> list[str]:
    """The operator schemas torchvision registers in this (working) environment."""
    import torch
    import torchvision  # noqa: F401  (registers the operators)

    schemas = [str(s) for s in torch._C._jit_get_all_schemas()]
    return sorted(s.removeprefix("torchvision::") for s in schemas if s.startswith("torchvision::"))


def run(*command: str) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def torchvision_imports(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import torchvision"], capture_output=True, text=True)
    return probe.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prefix", type=Path, help="where to create the environment")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--torch-wheel", type=Path, help="a local CPU torch wheel")
    source.add_argument("--torch-index", default=CPU_INDEX, help="PyTorch's CPU wheel index")
    parser.add_argument(
        "--torchvision", default="torchvision", help="requirement, with --torch-wheel"
    )
    args = parser.parse_args(argv)

    venv.EnvBuilder(with_pip=True, clear=True).create(args.prefix)
    python = str(args.prefix / "bin" / "python")
    if args.torch_wheel:
        run(python, "-m", "pip", "install", "--quiet", str(args.torch_wheel))
        # --no-deps: torchvision's own requirement would replace the CPU torch with PyPI's
        run(python, "-m", "pip", "install", "--quiet", "--no-deps", args.torchvision)
    else:
        run(
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--index-url",
            args.torch_index,
            "torch",
            "torchvision",
        )
    # The course's other packages; torch is already satisfied, so it stays the CPU build.
    run(python, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}", "psutil")
    if not torchvision_imports(python):
        site = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(site, "sitecustomize.py").write_text(
            SITECUSTOMIZE.format(schemas=torchvision_schemas()), encoding="utf-8"
        )
        if not torchvision_imports(python):
            print("torchvision still does not import in", args.prefix, file=sys.stderr)
            return 1
        print("torchvision's compiled operators are declared without kernels (see --help)")
    run(
        python,
        "-c",
        "import torch, torchvision; print('PyTorch', torch.__version__, "
        "'CUDA' if torch.version.cuda else 'CPU-only', 'torchvision', torchvision.__version__)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
