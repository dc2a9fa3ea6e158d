"""Build the course's website from the stored, executed notebooks (nothing is re-executed).

    python tools/build_site.py [--repo URL] [--out site]      # or: make site

The home page is README.md's course map; every lesson and every exercise (the student
version) is a page showing its stored outputs; instructor notes (``instructor/*.md``),
when the folder exists, form an "Instructors" section. Widgets show their static
picture: each widget output carries an ``image/png`` next to the live view
(``widgets/display.py``'s ``widget_bundle``), and the live view, which needs a kernel,
is dropped so the page shows the picture instead of an empty placeholder.

Solutions are not published: the site is public and indexable, and an exercise whose
answer is one click away defeats its hints-one-at-a-time design. They stay in the
repository (``lessons/exercises/solutions/``); links to them, like links to any file
that is not a page, point to the file in the repository when the remote is on GitHub
or GitLab, and become plain text otherwise.

Each notebook page links to Binder, derived from this clone's ``origin`` remote (or
``--repo``) by tools/share_links.py, and to the notebook itself for download. Without a
remote, or with one Binder cannot fetch (a local path, as in a clone of a clone), there
is nowhere to launch from: the pages offer the download alone, and the build says so.

MkDocs with mkdocs-jupyter turns the staged copies into HTML (``build/site-docs`` ->
``site/``); afterwards every internal link and anchor of the built site is checked, and
a broken one fails the build. Everything the pages need is in the site, MathJax included:
it works offline, opened from disk or from any static host.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import subprocess
import sys
from html import escape
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import share_links  # noqa: E402  (sibling scripts, not a package)
import site_hooks  # noqa: E402

SITE = ROOT / "site"
STAGING = ROOT / "build" / "site-docs"
# mkdocs-jupyter's cache keys hold the notebook and its options, not the converters'
# versions: a folder per version pair, so an upgrade converts everything afresh
CACHE = (
    ROOT
    / "build"
    / "mkdocs-jupyter-cache"
    / f"{version('mkdocs-jupyter')}-nbconvert-{version('nbconvert')}"
)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BINDER_CLASS = "binder-link"
DOWNLOAD_CLASS = "download-link"
LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)"
)


class SiteError(RuntimeError):
    """The site cannot be built as asked; the message says what to fix."""


# --------------------------------------------------------------------------- the pages
def notebook_pages(root: Path = ROOT) -> dict[str, list[str]]:
    """The published notebooks by nav section, as repository-relative paths."""

    def found(pattern: str) -> list[str]:
        return [p.relative_to(root).as_posix() for p in sorted(root.glob(pattern))]

    return {
        "Lessons": found("lessons/[0-9][0-9]-*.ipynb"),
        "Exercises": found("lessons/exercises/[0-9][0-9]-*.ipynb"),
    }


def instructor_pages(root: Path = ROOT) -> list[str]:
    """instructor/*.md (README or index first); an empty list when there are none."""
    pages = sorted(
        root.glob("instructor/*.md"),
        key=lambda p: (p.stem.lower() not in {"readme", "index"}, p.name),
    )
    return [p.relative_to(root).as_posix() for p in pages]


def staged_name(path: str) -> str:
    """Where a repository file lands in the site's sources (README.md is the home page)."""
    return "index.md" if path == "README.md" else path


def html_page(path: str) -> str:
    """The built page of a source file (MkDocs makes a folder's README its index)."""
    folder, name = posixpath.split(staged_name(path))
    stem = posixpath.splitext(name)[0]
    return posixpath.join(folder, "index.html" if stem in {"README", "index"} else stem + ".html")


# --------------------------------------------------------------------------- links
def rewrite_links(
    markdown: str, source: str, published: set[str], file_url, root: Path = ROOT, *, html=False
) -> str:
    """Point each relative link of ``source``'s markdown at its page on the site.

    ``html``: link to the built page (``.html``), for notebooks, whose markdown nbconvert
    renders as it is; MkDocs itself resolves a Markdown page's links to source files.

    A link to a file that is not a page goes to the repository (``file_url(path)``), or
    becomes plain text when ``file_url`` gives None; an image is copied along. A link to
    a file that does not exist raises: the source itself is broken.
    """

    def replace(match: re.Match) -> str:
        target = match["target"]
        if re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", target, re.IGNORECASE):
            return match[0]
        path, _, fragment = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(path)))
        if resolved.startswith("..") or not (root / resolved).exists():
            raise SiteError(f"{source} links to {target}, which does not exist in the course")
        anchor = f"#{fragment}" if fragment else ""
        if match["bang"] or resolved in published or resolved == "README.md":
            page = html_page(resolved) if html and not match["bang"] else staged_name(resolved)
            relative = posixpath.relpath(page, posixpath.dirname(staged_name(source)) or ".")
            return f"{match['bang']}[{match['text']}]({relative}{anchor}{match['title'] or ''})"
        url = file_url(resolved)
        return f"[{match['text']}]({url}{anchor})" if url else match["text"]

    return LINK.sub(replace, markdown)


def image_targets(markdown: str, source: str) -> list[str]:
    """Repository paths of the local images ``source``'s markdown shows."""
    return [
        posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(m["target"])))
        for m in LINK.finditer(markdown)
        if m["bang"] and not re.match(r"^[a-z][a-z0-9+.-]*:", m["target"], re.IGNORECASE)
    ]


def repository_links(repo: str | None):
    """(binder_url(path) or None, file_url(path) or None) for the site's links."""
    if repo is None:
        return (lambda path: None), (lambda path: None)
    return (
        lambda path: share_links.binder_url(repo, path),
        lambda path: share_links.file_url(repo, path),
    )


# --------------------------------------------------------------------------- staging
def launch_paragraph(binder_url: str | None, notebook: str | None = None) -> str:
    """Where to run a notebook: Binder (when the course has a public remote) and the
    notebook itself to download (the copy MkDocs puts next to its page)."""
    binder = (
        f'<a class="{BINDER_CLASS}" href="{escape(binder_url)}">Launch this notebook on '
        "Binder</a> to run it (no installation)"
        if binder_url
        else ""
    )
    if notebook is None:
        return f"<p>{binder}.</p>"
    download = f'<a class="{DOWNLOAD_CLASS}" href="{escape(notebook)}" download>'
    if binder:
        return f"<p>{binder}, or {download}download it</a>.</p>"
    return f"<p>{download}Download this notebook</a> to run it in JupyterLab.</p>"


def stage_notebook(path: str, published: set[str], binder_url, file_url, root: Path) -> dict:
    """The notebook as the site shows it: live widget views out, links fixed, where to
    run it under the title."""
    notebook = json.loads((root / path).read_text(encoding="utf-8"))
    notebook["metadata"].pop("widgets", None)  # saved widget state would need a CDN
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            cell["source"] = rewrite_links(text, path, published, file_url, root, html=True)
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    first = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    lines = "".join(first["source"]).split("\n")
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), -1)
    paragraph = launch_paragraph(binder_url(path), posixpath.basename(path))
    lines[title + 1 : title + 1] = ["", paragraph, ""]
    first["source"] = "\n".join(lines)
    return notebook


def markdown_of(path: Path) -> str:
    """A page's prose: a notebook's markdown cells, or the Markdown file."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def title_of(path: Path) -> str:
    """A page's first level-1 heading (the nav's label)."""
    heading = re.search(r"^# (.+)$", markdown_of(path), re.MULTILINE)
    return heading[1].strip() if heading else path.stem


def home_page(published: set[str], binder_url, file_url, repo: str | None, root: Path) -> str:
    """README's title, its opening paragraph and its course map."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    title = re.search(r"^# (.+)$", readme, re.MULTILINE)
    intro = re.search(r"^# [^\n]+\n\n(.+?)\n\n", readme, re.MULTILINE | re.DOTALL)
    course_map = re.search(r"^## Course map\n.*?(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    if not (title and intro and course_map):
        raise SiteError("README.md needs a '# title', an opening paragraph and '## Course map'")
    parts = [f"# {title[1]}", intro[1]]
    setup_check = binder_url(share_links.DEFAULT_LESSON)
    if setup_check:
        parts.append(launch_paragraph(setup_check))
    where = f"[the repository]({repo})" if repo else "the repository"
    parts.append(
        f"Every page shows a lesson as it ran; to run it yourself, clone {where} and type "
        "`make lab`."
    )
    parts.append(course_map[0].rstrip())
    return rewrite_links("\n\n".join(parts) + "\n", "README.md", published, file_url, root)


def stage(staging: Path, repo: str | None, root: Path = ROOT) -> dict:
    """Write the site's sources into ``staging``; return the MkDocs nav."""
    if staging.exists():
        shutil.rmtree(staging)
    sections = notebook_pages(root)
    instructors = instructor_pages(root)
    published = {p for pages in sections.values() for p in pages} | set(instructors)
    binder_url, file_url = repository_links(repo)

    def write(path: str, text: str) -> None:
        target = staging / staged_name(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        for image in image_targets(markdown_of(root / path), path):  # pictures come along
            (staging / image).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / image, staging / image)

    (staging / "index.md").parent.mkdir(parents=True)
    (staging / "index.md").write_text(
        home_page(published, binder_url, file_url, repo, root), encoding="utf-8"
    )
    nav: list = [{"Course map": "index.md"}]
    for section, pages in sections.items():
        for page in pages:
            notebook = stage_notebook(page, published, binder_url, file_url, root)
            write(page, json.dumps(notebook, ensure_ascii=False, indent=1))
        nav.append({section: [{title_of(root / p): p} for p in pages]})
    for page in instructors:
        text = (root / page).read_text(encoding="utf-8")
        write(page, rewrite_links(text, page, published, file_url, root))
    if instructors:
        nav.append({"Instructors": [{title_of(root / p): p} for p in instructors]})
    return nav


def mkdocs_config(staging: Path, out: Path, nav: list, repo: str | None, root: Path) -> dict:
    title = re.search(r"^# (.+)$", (root / "README.md").read_text(encoding="utf-8"), re.M)
    config = {
        "site_name": title[1] if title else "Neural networks course",
        "docs_dir": str(staging),
        "site_dir": str(out),
        # page.html next to page.ipynb: the site also works opened from disk
        "use_directory_urls": False,
        # font: no Google Fonts request; the site works offline (a classroom, the tests)
        "theme": {"name": "material", "font": False, "features": ["navigation.sections"]},
        "plugins": [
            "search",
            # execute: no; the stored outputs are the point. include_source: a download button.
            # include: notebooks only (its default also runs Markdown pages through jupytext)
            {
                "mkdocs-jupyter": {
                    "execute": False,
                    "include_source": True,
                    "include": ["*.ipynb"],
                    # unset, a page loads MathJax from src="" (mkdocs-jupyter issue #212)
                    "custom_mathjax_url": site_hooks.MATHJAX_SCRIPT,
                    # pages whose staged notebook is unchanged are not converted again
                    "cache_dir": str(CACHE),
                }
            },
        ],
        "hooks": [str(Path(__file__).resolve().parent / "site_hooks.py")],
        "nav": nav,
        # math in Markdown pages ($w$, as in the notebooks) kept for MathJax to typeset
        "markdown_extensions": [{"pymdownx.arithmatex": {"generic": True}}],
    }
    if repo:
        config["repo_url"] = repo
    return config


# --------------------------------------------------------------------------- link check
class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.targets.append(value)
            elif name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)


def broken_links(site: Path) -> list[str]:
    """Every internal link or anchor of the built site that leads nowhere, as
    'page -> target' (external links are not followed: the site is checked offline)."""
    parsed: dict[Path, _Links] = {}

    def parse(page: Path) -> _Links:
        if page not in parsed:
            parser = _Links()
            parser.feed(page.read_text(encoding="utf-8", errors="replace"))
            parsed[page] = parser
        return parsed[page]

    broken = []
    for page in sorted(site.rglob("*.html")):
        for target in parse(page).targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("data:", "javascript:")):
                continue
            if not parts.path:
                destination = page
            elif parts.path.startswith("/"):  # 404.html: root-relative, served at the root
                destination = (site / unquote(parts.path).lstrip("/")).resolve()
            else:
                destination = (page.parent / unquote(parts.path)).resolve()
            if destination.is_dir():
                destination = destination / "index.html"
            name = f"{page.relative_to(site)} -> {target}"
            if not destination.is_file() or site.resolve() not in destination.parents:
                broken.append(name)
            elif parts.fragment and destination.suffix == ".html":
                if unquote(parts.fragment) not in parse(destination).ids:
                    broken.append(name)
    return broken


# --------------------------------------------------------------------------- build
def build(
    out: Path = SITE, repo: str | None = None, root: Path = ROOT, staging: Path | None = None
) -> Path:
    staging = staging or STAGING
    repo = share_links.https_url(repo) if repo else None  # git@host:x -> https://host/x
    nav = stage(staging, repo, root)
    config = staging.parent / "mkdocs.yml"
    config.write_text(yaml.safe_dump(mkdocs_config(staging, out, nav, repo, root)), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SiteError(f"mkdocs build failed:\n{result.stdout}{result.stderr}")
    broken = broken_links(out)
    if broken:
        raise SiteError("broken links in the built site:\n  " + "\n  ".join(broken))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/build_site.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repo", help="repository URL for Binder links (default: origin)")
    parser.add_argument("--out", type=Path, default=SITE, help="output folder (default: site/)")
    args = parser.parse_args(argv)
    repo = args.repo
    if repo is not None and share_links.public_url(repo) is None:
        parser.error(f"--repo {repo}: Binder links need a web address (https://...)")
    if repo is None:
        try:
            origin = share_links.origin_url()
        except share_links.NoRemote:
            print(
                "No git remote 'origin': the site is built without Binder links "
                "(pass --repo URL to add them).",
                file=sys.stderr,
            )
        else:
            repo = share_links.public_url(origin)
            if repo is None:  # a clone of a local copy, say: Binder cannot fetch it
                print(
                    f"The git remote 'origin' ({origin}) is not a web address: the site is "
                    "built without Binder links (pass --repo URL to add them).",
                    file=sys.stderr,
                )
    try:
        out = build(args.out.resolve(), repo)
    except SiteError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"site built in {out} (open {out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
