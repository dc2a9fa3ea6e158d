"""tools/build_site.py: the course website built from the stored notebooks (`make site`).

One build (module fixture) over the real lessons plus a temporary instructor note; the
checks read the HTML it wrote. The browser test (tests/browser/test_site.py) looks at it.
"""

import html
import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_site = _load("build_site")
course = _load("course")
share_links = build_site.share_links
REPO = "https://github.com/ada/nn-course"
NOTE = "instructor/site-test-note.md"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def course_copy(target: Path, *, instructor_note: bool) -> Path:
    """The repository as links, with an instructor/ folder of its own (ROOT's notes, if
    any, plus a test note) or none at all."""
    target.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {"instructor", "site", "build", ".git", ".venv"}:
            (target / entry.name).symlink_to(entry)
    if instructor_note:
        (target / "instructor").mkdir()
        for note in ROOT.glob("instructor/*.md"):
            (target / "instructor" / note.name).write_text(note.read_text())
        if not (target / "instructor" / "README.md").exists():  # a folder's index page
            (target / "instructor" / "README.md").write_text(
                "# Instructor notes\n\nOne page per lesson, e.g. [the test's](site-test-note.md).\n"
            )
        (target / NOTE).write_text(
            "# Site test: an instructor note\n\n"
            "Drive the playground of [lesson 1](../lessons/01-perceptron.ipynb) with $b = 0$\n"
            "(then $z_{i} = w_1 x_1$); the\n"
            "[solution](../lessons/exercises/solutions/01-perceptron.ipynb) is not published.\n"
        )
    return target


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("site")
    root = course_copy(work / "course", instructor_note=True)
    return build_site.build(work / "site", REPO, root=root, staging=work / "staging")


def page_names(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*.html")} - {"404.html"}


def hrefs(page: Path) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page.read_text())]


def anchors_of_class(page: str, name: str) -> list[str]:
    """The href of every <a> of class ``name`` (whatever the attributes' order)."""
    tags = re.findall(r"<a\s[^>]*>", page)
    return [
        html.unescape(re.search(r'href="([^"]*)"', tag)[1])
        for tag in tags
        if re.search(rf'class="{name}"', tag)
    ]


def stored_pngs(notebook: Path, *, widgets_only: bool) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    outputs = [o.get("data", {}) for c in cells for o in c.get("outputs", [])]
    return [
        "".join(data["image/png"]).strip()
        for data in outputs
        if "image/png" in data and (WIDGET_VIEW in data or not widgets_only)
    ]


def test_pages_are_the_home_the_lessons_the_student_exercises_and_instructor_notes(site):
    lessons = {p.with_suffix(".html").name for p in ROOT.glob("lessons/[0-9][0-9]-*.ipynb")}
    exercises = {
        p.with_suffix(".html").name for p in ROOT.glob("lessons/exercises/[0-9][0-9]-*.ipynb")
    }
    assert len(lessons) >= 7 and len(exercises) >= 6
    notes = build_site.instructor_pages(site.parent / "course")  # ROOT's and the test's
    assert {NOTE, "instructor/README.md"} <= set(notes)
    expected = (
        {"index.html"}
        | {f"lessons/{name}" for name in lessons}
        | {f"lessons/exercises/{name}" for name in exercises}
        | {build_site.html_page(note) for note in notes}
    )
    assert page_names(site) - {"search.html"} == expected  # no solution is a page
    assert not list(site.rglob("solutions"))


def test_home_page_is_the_course_map_linking_every_lesson_and_exercise(site):
    readme = (ROOT / "README.md").read_text()
    course_map = readme.split("## Course map", 1)[1].split("\n## ", 1)[0]
    notebooks = re.findall(r"\]\((lessons/[^)]+\.ipynb)\)", course_map)
    assert len(notebooks) >= 12  # six lessons, six exercises
    home = site / "index.html"
    assert 'id="course-map"' in home.read_text()
    links = set(hrefs(home))
    assert {n.replace(".ipynb", ".html") for n in notebooks} <= links
    assert share_links.binder_url(REPO, share_links.DEFAULT_LESSON) in links


def test_no_internal_link_or_anchor_of_the_built_site_is_broken(site):
    assert build_site.broken_links(site) == []
    # links between notebook pages go to the pages, not to the downloadable .ipynb
    assert "02-feedforward-networks.html" in hrefs(site / "lessons" / "01-perceptron.html")
    assert "../index.html#course-map" in hrefs(site / "lessons" / "06-pytorch-advanced.html")


def test_the_link_checker_finds_missing_pages_anchors_and_paths_outside_the_site(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/page.html#here">ok</a> <a href="sub/page.html#gone">bad anchor</a>'
        '<a href="missing.html">bad page</a> <a href="https://example.org/x">external</a>'
        '<img src="data:image/png;base64,AAAA"> <a href="../outside.html">escapes</a>'
        '<a href="/sub/page.html">root-relative</a> <a href="#top" id="top">self</a>'
    )
    (tmp_path / "sub" / "page.html").write_text('<h2 id="here">x</h2><a href="../">up</a>')
    (tmp_path.parent / "outside.html").write_text("")
    assert build_site.broken_links(tmp_path) == [
        "index.html -> sub/page.html#gone",
        "index.html -> missing.html",
        "index.html -> ../outside.html",
    ]


def test_widgets_show_their_stored_picture_and_no_live_view(site):
    checked = 0
    for notebook in ROOT.glob("lessons/[0-9][0-9]-*.ipynb"):
        page = (site / "lessons" / notebook.with_suffix(".html").name).read_text()
        for png in stored_pngs(notebook, widgets_only=True):
            assert f'src="data:image/png;base64,{png}"' in page, notebook.name
            checked += 1
    assert checked >= 10  # every lesson's widgets (perceptron, playground, stepper, monitor)
    for page in site.rglob("*.html"):
        assert WIDGET_VIEW not in page.read_text(), f"{page.name}: a widget view needs a kernel"


def test_every_notebook_page_launches_itself_on_binder_and_offers_its_download(site):
    pages = [p for p in page_names(site) if p.startswith("lessons/")]
    assert len(pages) >= 13
    for name in pages:
        text = (site / name).read_text()
        links = anchors_of_class(text, build_site.BINDER_CLASS)
        notebook = name.replace(".html", ".ipynb")
        assert links == [share_links.binder_url(REPO, notebook)], name
        # and the notebook itself, to download (the link check sees that it is there)
        downloads = anchors_of_class(text, build_site.DOWNLOAD_CLASS)
        assert downloads == [Path(notebook).name], name


def test_instructor_notes_are_a_section_whose_links_lead_to_the_pages(site):
    home = (site / "index.html").read_text()
    assert "Instructors" in home and 'href="instructor/site-test-note.html"' in home
    assert 'href="instructor/index.html"' in home  # the folder's README, first
    note = site / NOTE.replace(".md", ".html")
    links = hrefs(note)
    assert "../lessons/01-perceptron.html" in links  # MkDocs resolved the notebook link
    assert share_links.file_url(REPO, "lessons/exercises/solutions/01-perceptron.ipynb") in links
    # its math is kept for MathJax (not mangled into emphasis), MathJax being in the site
    text = note.read_text()
    assert '<span class="arithmatex">\\(z_{i} = w_1 x_1\\)</span>' in text
    assert f'<script src="../{build_site.site_hooks.MATHJAX_SCRIPT}">' in text


def test_without_instructor_notes_or_a_remote_the_site_leaves_both_out(tmp_path):
    root = course_copy(tmp_path / "course", instructor_note=False)
    nav = build_site.stage(tmp_path / "staging", None, root=root)
    assert [next(iter(section)) for section in nav] == ["Course map", "Lessons", "Exercises"]
    staged = list((tmp_path / "staging").rglob("*.*"))
    assert len(staged) >= 14
    assert not any("mybinder" in path.read_text() for path in staged)
    lesson = json.loads((tmp_path / "staging" / "lessons" / "01-perceptron.ipynb").read_text())
    assert (
        'href="01-perceptron.ipynb" download>Download this notebook' in lesson["cells"][0]["source"]
    )
    staged_exercise = tmp_path / "staging" / "lessons" / "exercises" / "01-perceptron.ipynb"
    cells = json.loads(staged_exercise.read_text())["cells"]
    prose = " ".join(c["source"] for c in cells if c["cell_type"] == "markdown")
    # the link to the unpublished solution became its text: nowhere to send the reader
    assert re.search(r"The\s+>\s+solutions are there", prose)
    assert "solutions/01-perceptron" not in prose


def test_notebooks_link_to_built_pages_and_a_readme_is_its_folders_index(tmp_path):
    published = {"lessons/02-b.ipynb", "instructor/README.md"}
    for path in (*published, "README.md"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).touch()
    text = "[next](02-b.ipynb#top), [notes](../instructor/README.md), [map](../README.md#map)"
    in_notebook = build_site.rewrite_links(
        text, "lessons/01-a.ipynb", published, None, tmp_path, html=True
    )
    assert in_notebook == (
        "[next](02-b.html#top), [notes](../instructor/index.html), [map](../index.html#map)"
    )
    # Markdown pages keep the source names, which MkDocs resolves itself
    in_markdown = build_site.rewrite_links(text, "lessons/01-a.ipynb", published, None, tmp_path)
    assert in_markdown == (
        "[next](02-b.ipynb#top), [notes](../instructor/README.md), [map](../index.md#map)"
    )


def test_a_link_to_a_file_that_does_not_exist_fails_the_build():
    with pytest.raises(build_site.SiteError, match="lessons/01-x.ipynb links to gone.ipynb"):
        build_site.rewrite_links("see [this](gone.ipynb)", "lessons/01-x.ipynb", set(), None)


def test_without_a_remote_make_site_says_so_and_builds_without_binder_links(
    monkeypatch, capsys, tmp_path
):
    def no_remote():
        raise share_links.NoRemote("none")

    built = []
    monkeypatch.setattr(share_links, "origin_url", no_remote)
    monkeypatch.setattr(build_site, "build", lambda out, repo: built.append(repo) or out)
    assert build_site.main(["--out", str(tmp_path)]) == 0
    assert built == [None]
    assert "without Binder links" in capsys.readouterr().err


def test_a_remote_binder_cannot_fetch_gives_a_site_without_binder_links(
    monkeypatch, capsys, tmp_path
):
    # a clone of a local copy (CI clones the course from a path): origin is a path
    built = []
    monkeypatch.setattr(share_links, "origin_url", lambda: "/work/main")
    monkeypatch.setattr(build_site, "build", lambda out, repo: built.append(repo) or out)
    assert build_site.main(["--out", str(tmp_path)]) == 0
    assert built == [None]
    assert "(/work/main) is not a web address" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # asked for explicitly: an error, not a silent drop
        build_site.main(["--out", str(tmp_path), "--repo", "/work/main"])


def test_make_site_runs_the_site_builder(monkeypatch, tmp_path):
    commands = []
    monkeypatch.setattr(course, "setup", lambda torch: tmp_path)
    monkeypatch.setattr(course, "run", lambda *command: commands.append(command))
    assert course.main(["site"]) == 0
    assert commands == [(course.python_of(tmp_path), "tools/build_site.py")]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab test .*\bsite\b.*:$", makefile, re.MULTILINE)


def test_saved_widget_state_is_dropped_so_the_page_shows_the_picture(tmp_path):
    # With the state saved (JupyterLab's "Save Widget State"), nbconvert renders the live
    # view, which loads a widget manager from a CDN and shows nothing without a kernel.
    from mkdocs_jupyter.convert import nb2html

    source = json.loads((ROOT / "lessons" / "01-perceptron.ipynb").read_text())
    widget_cell = next(
        c
        for c in source["cells"]
        if any(WIDGET_VIEW in o.get("data", {}) for o in c.get("outputs", []))
    )
    title = {"cell_type": "markdown", "id": "t", "metadata": {}, "source": "# T"}
    source["cells"] = [title, widget_cell]
    model_id = widget_cell["outputs"][0]["data"][WIDGET_VIEW]["model_id"]
    source["metadata"]["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {
                model_id: {
                    "model_name": "VBoxModel",
                    "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0",
                    "state": {},
                }
            },
            "version_major": 2,
            "version_minor": 0,
        }
    }
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01-x.ipynb").write_text(json.dumps(source))
    assert WIDGET_VIEW in nb2html(str(tmp_path / "lessons" / "01-x.ipynb"))

    staged = build_site.stage_notebook(
        "lessons/01-x.ipynb", set(), lambda path: None, lambda path: None, tmp_path
    )
    (tmp_path / "staged.ipynb").write_text(json.dumps(staged))
    page = nb2html(str(tmp_path / "staged.ipynb"))
    assert WIDGET_VIEW not in page and "widgets" not in staged["metadata"]
    png = "".join(widget_cell["outputs"][0]["data"]["image/png"]).strip()
    assert f'src="data:image/png;base64,{png}"' in page
