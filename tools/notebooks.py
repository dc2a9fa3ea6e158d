"""Keep lesson notebooks in step with their py:percent sources.

    python tools/notebooks.py check            # exit 1 if any .ipynb's inputs differ from its .py
    python tools/notebooks.py sync             # each .py's inputs into its .ipynb (outputs kept)
    python tools/notebooks.py build [FILE...]  # regenerate .ipynb from .py and execute it,
                                               # storing outputs (what `make notebooks` runs)

The .py is the source of truth; the .ipynb carries the outputs of a full run. Everything
goes through jupytext's Python API (no subprocess per notebook), and the kernels get an
environment without ``MPLBACKEND`` (it breaks inline figures) instead of this process
changing its own environment while threads run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
from jupytext.combine import combine_inputs_with_outputs

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"


def sources(paths: list[str] | None = None) -> list[Path]:
    """Lesson and exercise sources (.py files that have, or should have, a paired notebook)."""
    if paths:
        return [Path(p).resolve().with_suffix(".py") for p in paths]
    return sorted(p for p in LESSONS.rglob("*.py") if ".ipynb_checkpoints" not in p.parts)


def notebooks() -> list[Path]:
    return sorted(p for p in LESSONS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def as_percent_script(notebook: Path) -> str:
    """The notebook's inputs as jupytext writes them (what `jupytext --to py:percent` gives)."""
    return jupytext.writes(jupytext.read(notebook), fmt="py:percent")


def sync(source: Path) -> None:
    """Copy ``source``'s inputs into its paired notebook, keeping the notebook's outputs."""
    target = source.with_suffix(".ipynb")
    notebook = jupytext.read(source)
    if target.exists():
        notebook = combine_inputs_with_outputs(notebook, jupytext.read(target), fmt="py:percent")
    jupytext.write(notebook, target, fmt="ipynb")


def out_of_sync() -> list[str]:
    """Every pair whose inputs differ, and every .py or .ipynb without its partner."""
    problems = []
    for source in sources():
        if not source.with_suffix(".ipynb").exists():
            problems.append(f"{source.relative_to(ROOT)}: no paired .ipynb (run `make notebooks`)")
    for notebook in notebooks():
        source = notebook.with_suffix(".py")
        if not source.exists():
            problems.append(f"{notebook.relative_to(ROOT)}: no .py source")
            continue
        if as_percent_script(notebook) != source.read_text():
            problems.append(
                f"{notebook.relative_to(ROOT)}: inputs differ from {source.name} "
                "(run `make notebooks`, or `make sync` if only the .py changed text)"
            )
    return problems


def give_stable_ids(notebook) -> None:
    """Cell ids derived from each cell's content (not random), so a rebuild that changes
    one cell changes one id, and diffs of the committed .ipynb stay readable."""
    seen: dict[str, int] = {}
    for cell in notebook.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def kernel_environment() -> dict[str, str]:
    """This process's environment without MPLBACKEND, which breaks inline figures, and with
    downloads off: stored outputs must not depend on whether this machine was online."""
    environment = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    return {**environment, "NN_COURSE_OFFLINE": "1"}


def execute(source: Path) -> str:
    """Regenerate ``source``'s notebook and run it top to bottom in its own folder."""
    from nbclient import NotebookClient

    started = time.perf_counter()
    notebook = jupytext.read(source)
    give_stable_ids(notebook)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        store_widget_state=False,
        record_timing=False,  # no per-cell timestamps: rebuilds give small diffs
        resources={"metadata": {"path": str(source.parent)}},
    ).execute(env=kernel_environment())
    target = source.with_suffix(".ipynb")
    jupytext.write(notebook, target, fmt="ipynb")
    # Re-derive the .py from the notebook exactly as `check` does, so the pair is in
    # sync by construction (header and metadata filters included).
    source.write_text(as_percent_script(target))
    return f"{source.relative_to(ROOT)}: executed in {time.perf_counter() - started:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["check", "sync", "build"])
    parser.add_argument("files", nargs="*", help="only these lessons (sync, build)")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.command == "check":
        problems = out_of_sync()
        print("\n".join(problems) or "all notebook pairs are in sync")
        return 1 if problems else 0
    if args.command == "sync":
        for source in sources(args.files):
            sync(source)
        return 0
    failures = 0
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(execute, s): s for s in sources(args.files)}
        for future, source in futures.items():
            try:
                print(future.result(), flush=True)
            except Exception as error:  # report every failing notebook, not just the first
                failures += 1
                print(f"{source.relative_to(ROOT)}: FAILED\n{error}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
