"""Install binder/overrides.json as JupyterLab's default settings for an environment.

The same file serves Binder (binder/postBuild copies it) and local venvs: news and
update checks off (no toast over the page) and lesson .py files open as notebooks.
Usage: python tools/lab_settings.py PREFIX   (e.g. .venv)
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def install(prefix: Path) -> Path:
    target = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "binder" / "overrides.json", target)
    return target


if __name__ == "__main__":
    print(f"JupyterLab settings: {install(Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix))}")
