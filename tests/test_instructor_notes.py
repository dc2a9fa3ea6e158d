"""Instructor notes (instructor/NN-name.md, one per lesson) stay true to their lessons.

Each page's timing table names sections that exist in the lesson (its headings, without
their "(N min)"), covers every `##` section, agrees with the minutes a heading states, and
adds up to the lesson's stated time; what it says students stumble on comes from the
lesson's own text; and every link leads to a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "instructor"
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.py"))
REQUIRED_SECTIONS = [
    "## Timing",
    "## Where students stumble",
    "## Questions to ask the class",
    "## Widgets to drive",
    "## Live copy and slides",
]
MINUTES = re.compile(r"\s*\((\d+) min\)\s*$")
HEADING = re.compile(r"^# (#{1,3}) (.+)$", re.MULTILINE)  # markdown headings in py:percent
LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s#]+)")


def lesson_headings(lesson: Path) -> dict[str, tuple[int, int | None]]:
    """Heading text without its "(N min)" -> (level, the minutes it states, if any)."""
    headings = {}
    for hashes, text in HEADING.findall(lesson.read_text()):
        stated = MINUTES.search(text)
        headings[MINUTES.sub("", text).strip()] = (
            len(hashes),
            int(stated.group(1)) if stated else None,
        )
    return headings


def stated_time(lesson: Path) -> int:
    title = next(t for h, t in HEADING.findall(lesson.read_text()) if len(h) == 1)
    return int(MINUTES.search(title).group(1))


def section(text: str, heading: str) -> str:
    """The body of a ``## `` section of a notes page, up to the next ``## ``."""
    start = text.index(heading + "\n") + len(heading) + 1
    end = text.find("\n## ", start)
    return text[start : end if end >= 0 else len(text)]


def timing_rows(notes: str) -> list[tuple[str, int]]:
    """The (section, minutes) rows of the page's "## Timing (N min)" table."""
    heading = next(line for line in notes.splitlines() if line.startswith("## Timing"))
    rows = []
    for line in section(notes, heading).strip().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[-1].isdigit():
            rows.append((cells[0], int(cells[-1])))
    return rows


def notes_for(lesson: Path) -> Path:
    return NOTES / f"{lesson.stem}.md"


def test_every_lesson_has_notes_and_the_index_and_readme_link_them():
    assert len(LESSONS) == 7
    index = (NOTES / "README.md").read_text()
    assert sorted(NOTES.glob("[0-9][0-9]-*.md")) == [notes_for(lesson) for lesson in LESSONS]
    for lesson in LESSONS:
        assert f"]({lesson.stem}.md)" in index
    assert "](instructor/README.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_notes_have_every_part(lesson):
    notes = notes_for(lesson).read_text()
    for heading in REQUIRED_SECTIONS:
        assert re.search(f"^{re.escape(heading)}", notes, re.MULTILINE), f"no {heading!r}"
        body = section(notes, next(h for h in notes.splitlines() if h.startswith(heading)))
        assert len(body.split()) >= 15, f"{heading!r} says too little"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_timing_adds_up_to_the_lessons_stated_time_over_its_own_sections(lesson):
    notes = notes_for(lesson).read_text()
    rows = timing_rows(notes)
    headings = lesson_headings(lesson)
    total = stated_time(lesson)
    assert f"## Timing ({total} min)" in notes
    for name, minutes in rows:
        assert name in headings, f"{name!r} is no heading of {lesson.name}"
        level, stated = headings[name]
        stated = stated if level > 1 else None  # the title states the whole lesson's time
        assert stated is None or stated == minutes, f"{name!r}: the lesson says {stated} min"
    sections = [name for name, (level, _) in headings.items() if level == 2]
    assert [name for name in sections if name not in dict(rows)] == []
    assert sum(minutes for _, minutes in rows) == total


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_stumbling_blocks_come_from_the_lesson(lesson):
    notes = notes_for(lesson).read_text()
    named = re.findall(r"\*\*(.+?)\*\*", section(notes, "## Where students stumble"))
    assert len(named) >= 3
    text = lesson.read_text()
    for name in named:
        assert name in text, f"{name!r}: not in {lesson.name}'s own list"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_link_in_the_notes_leads_to_a_file(lesson):
    for path in [notes_for(lesson), NOTES / "README.md"]:
        for target in LINK.findall(path.read_text()):
            assert (path.parent / target).exists(), f"{path.name}: broken link {target}"


def test_the_timing_check_can_fail():
    """A row naming a section the lesson lacks, or a wrong total, is caught."""
    notes = "## Timing (10 min)\n\n| Section | Minutes |\n|---|---:|\n| 1. A | 4 |\n| 2. B | 5 |\n"
    assert timing_rows(notes) == [("1. A", 4), ("2. B", 5)]
    assert sum(m for _, m in timing_rows(notes)) != 10
