"""Measure every lesson claim over seeds and CPU code paths; write lessons/MARGINS.md.

    python tools/measure_margins.py                    # every notebook with claims, seeds 0-4
    python tools/measure_margins.py lessons/04-*.py    # only these (rows of others are kept)
    python tools/measure_margins.py --seeds 0 1 --paths native

Each notebook source is executed (in memory: the stored .ipynb is not touched) once per
seed and CPU code path, with ``$NN_COURSE_SEED`` shifting every training seed and
``$NN_COURSE_CLAIMS_LOG`` collecting what each ``check_claim`` measured. The paths:

- ``native``: the environment as it is (this machine's BLAS and ATen kernels);
- ``other``: PyTorch on its portable kernels (``ATEN_CPU_CAPABILITY=default``) and
  OpenBLAS told to use its Haswell kernels (``OPENBLAS_CORETYPE=Haswell``), the two
  things that change digits between machines. This tool is run by hand; tests and CI
  never set either variable.

Cells keep running after a failed claim (``allow_errors``), so one run measures every
claim even while a threshold is still wrong; failures are listed at the end.
The table's "margin" is how far the worst run stays inside the bound;
tests/test_claims.py checks that the notebooks' thresholds match the table and that
every margin is positive.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "lessons" / "MARGINS.md"
PATHS = {
    "native": {},
    "other": {"ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Haswell"},
}


def claims_in(source: Path) -> list[dict]:
    """Every ``check_claim(...)`` call in a notebook source, read without running it."""
    found = []
    for node in ast.walk(ast.parse(_code_of(source))):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_claim"):
            continue
        claim = {"name": ast.literal_eval(node.args[0]), "line": node.lineno}
        for keyword in node.keywords:
            claim[keyword.arg] = ast.literal_eval(keyword.value)
        found.append(claim)
    return found


def _code_of(source: Path) -> str:
    """The notebook's code cells as one module (magics and shell lines blanked)."""
    import jupytext

    notebook = jupytext.read(source)
    lines = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            lines += [
                "" if line.lstrip().startswith(("%", "!")) else line
                for line in cell.source.splitlines()
            ]
        lines.append("")
    return "\n".join(lines)


def notebook_sources() -> list[Path]:
    candidates = sorted((ROOT / "lessons").rglob("*.py"))
    return [
        path
        for path in candidates
        if ".ipynb_checkpoints" not in path.parts
        and "live" not in path.relative_to(ROOT / "lessons").parts[:-1]  # lessons/live/: copies
        and "check_claim" in path.read_text()
    ]


def run_once(source: Path, seed: int, path_name: str) -> tuple[list[dict], list[str]]:
    """Execute ``source`` in a child process under one seed and code path."""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "claims.jsonl"
        env = {
            **os.environ,
            **PATHS[path_name],
            "NN_COURSE_SEED": str(seed),
            "NN_COURSE_CLAIMS_LOG": str(log),
            # every claim is logged even when one before it fails; the bounds are
            # compared with the measurements below, not by the notebook
            "NN_COURSE_CLAIMS_RECORD_ONLY": "1",
            "NN_COURSE_OFFLINE": "1",  # measure what the tests run: no downloads
        }
        env.pop("MPLBACKEND", None)  # the inline backend, as in the notebooks' own runs
        result = subprocess.run(
            [sys.executable, __file__, "--execute", str(source)],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        entries = (
            [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        )
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    if result.returncode != 0:
        errors.append(f"ERROR the run itself failed: {result.stderr.strip()[-500:]}")
    for entry in entries:
        entry.update(notebook=str(source.relative_to(ROOT)), path=path_name, run_seed=seed)
    return entries, [f"{source.name} seed {seed} {path_name}: {e}" for e in errors]


def execute(source: Path) -> None:
    """Child process: run every cell, report each cell that raised."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(source.parent)}},
    ).execute()
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                print(f"ERROR cell {index}: {output['ename']}: {output['evalue'][:300]}")


def bound_text(claim: dict) -> str:
    parts = []
    if claim.get("at_least") is not None:
        parts.append(f"≥ {claim['at_least']:g}")
    if claim.get("at_most") is not None:
        parts.append(f"≤ {claim['at_most']:g}")
    return ", ".join(parts)


def margin_of(claim: dict, values: list[float]) -> float:
    margins = []
    if claim.get("at_least") is not None:
        margins.append(min(values) - claim["at_least"])
    if claim.get("at_most") is not None:
        margins.append(claim["at_most"] - max(values))
    return min(margins)


def parse_bound(text: str) -> dict:
    """``bound_text``'s inverse: "≥ 0.88, ≤ 1" -> {"at_least": 0.88, "at_most": 1.0}."""
    claim = {}
    for part in text.split(","):
        sign, number = part.split()
        claim["at_least" if sign == "≥" else "at_most"] = float(number)
    return claim


def relative_margin(row: dict) -> float:
    """The margin as a fraction of the bound's size (of the measured range when it is 0)."""
    bounds = [abs(b) for b in parse_bound(row["bound"]).values()]
    scale = max(bounds) or (row["max"] - row["min"]) or 1.0
    return row["margin"] / scale


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def write_table(rows: list[dict], settings: str) -> None:
    lines = [
        "# Margins of the lessons' claims",
        "",
        "Every number a lesson's prose relies on is asserted in its notebook with",
        "`widgets.claims.check_claim`. This table, written by `tools/measure_margins.py`,",
        "records what each claim measured over several seeds and two CPU code paths, and how",
        "far the worst run stays inside the notebook's bound. `tests/test_claims.py` fails",
        "when a notebook's bound differs from this table or a margin is not positive.",
        "",
        f"Measured: {settings}",
        "",
        "| notebook | claim | bound | min | median | max | runs | margin |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['notebook']} | {row['name']} | {row['bound']} | {row['min']:.4g} | "
            f"{row['median']:.4g} | {row['max']:.4g} | {row['runs']} | {row['margin']:.3g} |"
        )
    smallest = min(rows, key=relative_margin, default=None)
    if smallest:
        lines += [
            "",
            f"Smallest margin relative to its bound: {relative_margin(smallest):.1%} "
            f"({smallest['notebook']}: {smallest['name']}).",
        ]
    spread = [row for row in rows if row["max"] > row["min"]]
    tightest = min(spread, key=lambda r: r["margin"] / (r["max"] - r["min"]), default=None)
    if tightest:
        lines.append(
            "Smallest margin in units of its claim's measured range (max - min): "
            f"{tightest['margin'] / (tightest['max'] - tightest['min']):.2f} "
            f"({tightest['notebook']}: {tightest['name']})."
        )
    TABLE.write_text("\n".join(lines) + "\n")


def read_table() -> list[dict]:
    """The rows of lessons/MARGINS.md (tests/test_claims.py reads them too)."""
    if not TABLE.exists():
        return []
    rows = []
    for line in TABLE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 8 or cells[0] in ("notebook", "---"):
            continue
        notebook, name, bound, low, middle, high, runs, margin = cells
        rows.append(
            {
                "notebook": notebook,
                "name": name,
                "bound": bound,
                "min": float(low),
                "median": float(middle),
                "max": float(high),
                "runs": int(runs),
                "margin": float(margin),
            }
        )
    return rows


def read_settings() -> str:
    for line in TABLE.read_text().splitlines() if TABLE.exists() else []:
        if line.startswith("Measured: "):
            return line.removeprefix("Measured: ")
    return "unknown"


def rebound() -> int:
    """Bounds changed, experiments did not: keep the measured values, recompute margins."""
    table = {(row["notebook"], row["name"]): row for row in read_table()}
    rows, errors = [], []
    for source in notebook_sources():
        notebook = str(source.relative_to(ROOT))
        for claim in claims_in(source):
            row = table.get((notebook, claim["name"]))
            if row is None:
                errors.append(f"{notebook}: claim {claim['name']!r} was never measured")
                continue
            row["bound"] = bound_text(claim)
            row["margin"] = margin_of(claim, [row["min"], row["max"]])
            rows.append(row)
            if row["margin"] <= 0:
                errors.append(f"{notebook}: {claim['name']}: margin {row['margin']:.3g}")
    rows.sort(key=lambda row: (row["notebook"], row["name"]))
    write_table(rows, read_settings())
    print("\n".join(errors) or f"wrote {TABLE.relative_to(ROOT)} ({len(rows)} claims)")
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="notebook sources (.py); default: all with claims")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--paths", nargs="+", choices=sorted(PATHS), default=sorted(PATHS))
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument(
        "--bounds-only",
        action="store_true",
        help="run nothing: recompute bounds and margins from the table's measurements "
        "(after changing a bound, never after changing an experiment)",
    )
    parser.add_argument("--execute", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.execute:
        execute(Path(args.execute))
        return 0
    if args.bounds_only:
        return rebound()

    sources = [Path(f).resolve() for f in args.files] or notebook_sources()
    jobs = [(s, seed, p) for s in sources for seed in args.seeds for p in args.paths]
    print(f"{len(jobs)} runs of {len(sources)} notebooks", flush=True)
    measured: dict[tuple[str, str], list[float]] = {}
    errors: list[str] = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for (source, seed, path_name), (entries, failures) in zip(
            jobs, pool.map(lambda job: run_once(*job), jobs), strict=True
        ):
            print(
                f"  {source.name} seed {seed} {path_name}: {len(entries)} claims, "
                f"{len(failures)} errors",
                flush=True,
            )
            errors += failures
            for entry in entries:
                measured.setdefault((entry["notebook"], entry["name"]), []).append(entry["value"])

    names = {str(s.relative_to(ROOT)) for s in sources}
    rows = [row for row in read_table() if row["notebook"] not in names]  # keep the others
    for source in sources:
        notebook = str(source.relative_to(ROOT))
        for claim in claims_in(source):
            values = measured.get((notebook, claim["name"]))
            if not values:
                errors.append(f"{notebook}: claim {claim['name']!r} was never measured")
                continue
            rows.append(
                {
                    "notebook": notebook,
                    "name": claim["name"],
                    "bound": bound_text(claim),
                    "min": min(values),
                    "median": statistics.median(values),
                    "max": max(values),
                    "runs": len(values),
                    "margin": margin_of(claim, values),
                }
            )
    rows.sort(key=lambda row: (row["notebook"], row["name"]))
    settings = (
        f"seeds {', '.join(map(str, args.seeds))}; paths "
        + "; ".join(
            f"{p} ({' '.join(f'{k}={v}' for k, v in PATHS[p].items()) or 'as is'})"
            for p in args.paths
        )
        + f"; {cpu_name()}, "
        f"{datetime.date.today().isoformat()}"
    )
    write_table(rows, settings)
    print(f"wrote {TABLE.relative_to(ROOT)} ({len(rows)} claims)")
    for row in rows:
        if row["margin"] <= 0:
            errors.append(
                f"{row['notebook']}: {row['name']}: margin {row['margin']:.3g} "
                f"(min {row['min']:.4g}, max {row['max']:.4g}, bound {row['bound']})"
            )
    print("\n".join(errors) or "every claim held in every run")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
