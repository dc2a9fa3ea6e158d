"""Configure an environment's JupyterLab for the course: default settings and the
course's JupyterLab extension.

- Settings: binder/overrides.json becomes JupyterLab's defaults (news and update checks
  off, so no toast covers the page; lesson .py files open as notebooks).
- Extension: labextension/dist/ (prebuilt and committed; tools/build_labextension.py)
  is copied where JupyterLab finds extensions. It lets ipywidgets draw live controls in
  RISE's slideshow (labextension/index.js says why). It is copied here rather than
  declared as the package's data-files because editable installs (`pip install -e`,
  which every setup path uses) skip data-files.

The same script serves local venvs and conda environments (tools/course.py setup), Binder
(binder/postBuild) and a JupyterHub's user environment (README).
Usage: python tools/configure_lab.py PREFIX   (e.g. .venv)
"""

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "labextension" / "dist"


def install_settings(prefix: Path) -> Path:
    target = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "binder" / "overrides.json", target)
    return target


def install_extension(prefix: Path) -> Path:
    name = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))["name"]
    target = prefix / "share" / "jupyter" / "labextensions" / name
    shutil.rmtree(target, ignore_errors=True)  # a rebuild renames its hashed chunks
    shutil.copytree(EXTENSION, target)
    return target


if __name__ == "__main__":
    prefix = Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix)
    print(f"JupyterLab settings: {install_settings(prefix)}")
    print(f"JupyterLab extension: {install_extension(prefix)}")
