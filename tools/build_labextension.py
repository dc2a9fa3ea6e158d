"""Rebuild the course's JupyterLab extension (labextension/dist/) from labextension/.

    python tools/build_labextension.py      # or: make labextension

Only maintainers run this, after changing labextension/index.js or package.json: the
built extension is committed, so students, Binder and CI install it by copying
(tools/configure_lab.py, run by every setup) and never need Node.js. It needs node and npm;
`npm ci` installs the locked @jupyterlab/builder and @jupyterlab/console. The build uses
the installed JupyterLab's core metadata (the versions its shared modules ask for).
tests/test_labextension.py checks that dist/ matches the source.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jupyterlab

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "labextension"
BUILDER = SOURCE / "node_modules" / "@jupyterlab" / "builder" / "lib" / "build-labextension.js"


def main() -> int:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            print(
                f"{tool} is not installed: install Node.js (which brings npm) to rebuild the "
                "extension. Students never need to: labextension/dist/ is committed.",
                file=sys.stderr,
            )
            return 1
    core = Path(jupyterlab.__file__).parent / "staging"
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SOURCE, check=True)
    shutil.rmtree(SOURCE / "dist", ignore_errors=True)  # old hashed chunks would linger
    subprocess.run(["node", BUILDER, "--core-path", core, SOURCE], cwd=SOURCE, check=True)
    shutil.copy(SOURCE / "install.json", SOURCE / "dist" / "install.json")
    print(f"built {SOURCE / 'dist'}; commit it with the source change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
