"""Install the Debian packages the course needs, when we can: root on Debian/Ubuntu.

tools/apt.txt lists what every setup needs (Fashion-MNIST offline); tools/apt-test.txt
adds what the browser tests need (Chromium). Elsewhere this prints what to install and
carries on: the course still works, with downloads instead of Debian's data package.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wanted_packages() -> list[str]:
    names = []
    # Debian's own python3 can only create virtual environments with python3-venv.
    if importlib.util.find_spec("ensurepip") is None:
        names.append("python3-venv")
    for listing in (ROOT / "tools" / "apt.txt", ROOT / "tools" / "apt-test.txt"):
        for line in listing.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def is_installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return result.returncode == 0 and "install ok installed" in result.stdout


def main() -> int:
    packages = wanted_packages()
    if not shutil.which("apt-get") or not shutil.which("dpkg-query"):
        print(
            f"Not a Debian/Ubuntu system: install {', '.join(packages)} yourself if you can "
            "(Fashion-MNIST will be downloaded instead; browser tests need Chromium)."
        )
        return 0
    missing = [p for p in packages if not is_installed(p)]
    if not missing:
        return 0
    if os.geteuid() != 0:
        print(
            f"Missing Debian packages: {' '.join(missing)}. Run "
            f"`sudo apt-get install {' '.join(missing)}` (setup carries on without them)."
        )
        return 0
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"Installing Debian packages: {' '.join(missing)}")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
