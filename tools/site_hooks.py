"""MkDocs hooks for the course site (tools/build_site.py names this file in its config).

MathJax: the pages typeset math with the MathJax that jupyter-server-mathjax ships,
copied into ``assets/mathjax``; each page reaches it by its own relative path, so the site
works from disk, offline, or under any URL prefix. Notebook pages load it themselves
(nbconvert's template); a Markdown page (instructor notes) whose math arithmatex marked
gets it here.

mkdocs-jupyter builds a notebook page's table of contents from a Markdown rendering in
which inline code in a heading vanishes ("3. Models: `nn.Module` (10 min)" ->
``#3-models-10-min``), while the heading's own id, from nbconvert, keeps it. The two lists
hold the same headings in the same order, so each entry takes its heading's real id.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jupyter_server_mathjax

MATHJAX_DIR = "assets/mathjax"
MATHJAX_SCRIPT = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# The package ships only the STIX-Web fonts (as the classic notebook configured it); with
# MathJax's default (TeX fonts) every page would request a font file that is not there.
MATHJAX_FONTS = (
    '<script type="text/x-mathjax-config">MathJax.Hub.Config({"HTML-CSS": '
    '{availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});'
    "</script>"
)

HEADING_ID = re.compile(r"<h[1-6]\b[^>]*\bid=\"([^\"]+)\"")


def _entries(toc):
    for item in toc:
        yield item
        yield from _entries(item.children)


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    ids = HEADING_ID.findall(html)
    entries = list(_entries(page.toc))
    if len(entries) == len(ids):
        for entry, heading_id in zip(entries, ids, strict=True):
            entry.id = heading_id
    return html


def on_post_page(output, page, config):
    """Point a page's MathJax, given relative to the site root, at the site's copy."""
    up = "../" * page.url.count("/")
    if page.file.src_uri.endswith(".ipynb"):
        output = output.replace(f'src="{MATHJAX_DIR}/', f'src="{up}{MATHJAX_DIR}/')
        return output.replace("<!-- MathJax configuration -->", MATHJAX_FONTS, 1)
    if 'class="arithmatex"' not in output:
        return output
    scripts = f'{MATHJAX_FONTS}<script src="{up}{MATHJAX_SCRIPT}"></script>'
    return output.replace("</body>", f"{scripts}</body>", 1)


def on_post_build(config):
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(static, Path(config["site_dir"]) / MATHJAX_DIR, dirs_exist_ok=True)
