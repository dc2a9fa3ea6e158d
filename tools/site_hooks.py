"""MkDocs hooks for the course site (tools/build_site.py names this file in its config).

mkdocs-jupyter builds a notebook page's table of contents from a Markdown rendering in
which inline code in a heading vanishes ("3. Models: `nn.Module` (10 min)" ->
``#3-models-10-min``), while the heading's own id, from nbconvert, keeps it. The two lists
hold the same headings in the same order, so each entry takes its heading's real id.
"""

from __future__ import annotations

import re

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
