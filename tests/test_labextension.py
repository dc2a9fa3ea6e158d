"""The course's JupyterLab extension (labextension/): the committed build matches its
source, offers @jupyterlab/console at the version of RISE's slideshow page, can never
replace JupyterLab's own, and tools/configure_lab.py installs it where JupyterLab finds it.

tests/browser/test_slides.py checks what it is for: live widget controls in a slideshow.
"""

import importlib.util
import json
import re
from pathlib import Path

import jupyterlab
import jupyterlab_rise
from jupyterlab_server.config import get_federated_extensions

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "labextension"
BUILD = SOURCE / "dist"
_spec = importlib.util.spec_from_file_location("configure_lab", ROOT / "tools" / "configure_lab.py")
configure_lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(configure_lab)
# A webpack share scope registration: ("name","version",...
REGISTERED = re.compile(r'\("(@jupyterlab/[a-z0-9-]+)","(\d+\.\d+\.\d+)",')
STALE = "labextension/dist/ is stale: run `make labextension` and commit dist/"


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _offered_by_extension() -> dict[str, str]:
    entry = BUILD / _json(BUILD / "package.json")["jupyterlab"]["_build"]["load"]
    return dict(REGISTERED.findall(entry.read_text()))


def _offered_by_rise_page() -> dict[str, str]:
    offered = {}
    for bundle in (Path(jupyterlab_rise.__file__).parent / "static").glob("*.js"):
        offered.update(REGISTERED.findall(bundle.read_text(errors="replace")))
    return offered


def test_the_build_matches_its_source():
    source, built = _json(SOURCE / "package.json"), _json(BUILD / "package.json")
    for field in ("name", "version", "license", "dependencies", "devDependencies"):
        assert built[field] == source[field], f"{field}: {STALE}"
    shared = built["jupyterlab"]["sharedPackages"]
    assert shared == source["jupyterlab"]["sharedPackages"], STALE
    assert _json(BUILD / "install.json") == _json(SOURCE / "install.json"), STALE
    assert (BUILD / built["jupyterlab"]["_build"]["load"]).is_file(), STALE
    plugin_id = re.search(r"id: '([^']+)'", (SOURCE / "index.js").read_text()).group(1)
    chunks = "".join(p.read_text() for p in (BUILD / "static").glob("*.js"))
    assert plugin_id in chunks, STALE


def test_it_offers_the_console_the_slideshow_page_lacks_at_that_page_s_version():
    rise_page = _offered_by_rise_page()
    # The page's JupyterLab release: its @jupyterlab/cells, which console is built on.
    assert "@jupyterlab/cells" in rise_page, "jupyterlab_rise's bundles changed their layout"
    assert "@jupyterlab/console" not in rise_page, (
        "RISE's slideshow page now has @jupyterlab/console itself: the course's extension "
        "is no longer needed (remove labextension/ and its install in tools/configure_lab.py)"
    )
    offered = _offered_by_extension()
    assert offered.get("@jupyterlab/console") == rise_page["@jupyterlab/cells"], (
        f"the extension bundles @jupyterlab/console {offered.get('@jupyterlab/console')}, "
        f"RISE's page is JupyterLab {rise_page['@jupyterlab/cells']}: set that version in "
        "labextension/package-lock.json (npm install @jupyterlab/console@VERSION) and rebuild"
    )
    assert set(offered) == {"@jupyterlab/console"}  # nothing else of JupyterLab's


def test_jupyterlab_s_own_console_always_wins_over_the_bundled_one():
    # A shared singleton resolves to the highest version offered: JupyterLab's own
    # @jupyterlab/console must be at least the bundled one, or the extension would replace
    # it in JupyterLab itself. pyproject.toml's floor on jupyterlab guarantees that.
    bundled = _version(_offered_by_extension()["@jupyterlab/console"])
    core = Path(jupyterlab.__file__).parent / "staging" / "package.json"
    lab_console = _json(core)["resolutions"]["@jupyterlab/console"].lstrip("~^")
    assert _version(lab_console) >= bundled
    pyproject = (ROOT / "pyproject.toml").read_text()
    floor = re.search(r'"jupyterlab>=([\d.]+),', pyproject).group(1)
    assert _version(floor) >= bundled, "pyproject.toml must require jupyterlab>=" + ".".join(
        map(str, bundled)
    )


def test_configure_lab_installs_it_where_jupyterlab_finds_it(tmp_path):
    configure_lab.install_extension(tmp_path)
    stale = tmp_path / "share/jupyter/labextensions/@nn-course/rise-widgets/static/old.js"
    stale.write_text("")  # a chunk of an earlier build
    configure_lab.install_extension(tmp_path)
    assert not stale.exists()
    found = get_federated_extensions([str(tmp_path / "share" / "jupyter" / "labextensions")])
    extension = found["@nn-course/rise-widgets"]
    load = extension["jupyterlab"]["_build"]["load"]
    assert (Path(extension["ext_path"]) / load).is_file()
    assert extension["install"]["packageName"] == "nn-course-widgets"
    settings = configure_lab.install_settings(tmp_path)
    assert _json(settings) == _json(ROOT / "binder" / "overrides.json")
