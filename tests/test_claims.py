"""Lesson claims: check_claim's behaviour, and the margins table against the notebooks."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

from widgets.claims import check_claim, course_seed

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("measure_margins", ROOT / "tools/measure_margins.py")
measure_margins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(measure_margins)

# 5 seeds x 2 CPU code paths, as the portability issue asks.
MINIMUM_RUNS = 10


# ------------------------------------------------------------------ check_claim itself
def test_a_claim_that_holds_returns_the_value(monkeypatch):
    monkeypatch.delenv("NN_COURSE_CLAIMS_LOG", raising=False)
    assert check_claim("x", 0.9, at_least=0.88) == 0.9
    assert check_claim("y", 3, at_least=1, at_most=5) == 3.0


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        (0.87, {"at_least": 0.88}, "measured 0.87 < 0.88"),
        (1.2, {"at_most": 1.0}, "measured 1.2 > 1.0"),
        (math.nan, {"at_least": 0.0}, "the measured value is nan"),
        (math.inf, {"at_most": 1.0}, "the measured value is inf"),
    ],
)
def test_a_claim_that_fails_names_itself_and_the_numbers(monkeypatch, value, bounds, message):
    monkeypatch.delenv("NN_COURSE_CLAIMS_LOG", raising=False)
    with pytest.raises(AssertionError, match="claim 'accuracy' failed") as raised:
        check_claim("accuracy", value, **bounds)
    assert message in str(raised.value)


def test_a_claim_needs_a_bound_and_a_number():
    with pytest.raises(ValueError, match="needs at_least="):
        check_claim("no bound", 1.0)
    with pytest.raises(TypeError, match="expected a number"):
        check_claim("text", "high", at_least=0.5)


def test_claims_are_logged_when_asked_even_when_they_fail(monkeypatch, tmp_path):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("NN_COURSE_CLAIMS_LOG", str(log))
    monkeypatch.setenv("NN_COURSE_SEED", "3")
    check_claim("a", 0.5, at_least=0.4)
    with pytest.raises(AssertionError):
        check_claim("b", 2.0, at_most=1.0)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["name"], e["value"], e["seed"]) for e in entries] == [("a", 0.5, 3), ("b", 2.0, 3)]
    assert entries[1]["at_most"] == 1.0 and entries[1]["at_least"] is None


def test_record_only_mode_needs_a_log_and_is_off_in_tests(monkeypatch, tmp_path):
    import os

    assert "NN_COURSE_CLAIMS_RECORD_ONLY" not in os.environ  # never set by make test
    monkeypatch.setenv("NN_COURSE_CLAIMS_RECORD_ONLY", "1")
    monkeypatch.delenv("NN_COURSE_CLAIMS_LOG", raising=False)
    with pytest.raises(AssertionError):  # without a log, nothing would record the failure
        check_claim("c", 2.0, at_most=1.0)
    monkeypatch.setenv("NN_COURSE_CLAIMS_LOG", str(tmp_path / "log.jsonl"))
    assert check_claim("c", 2.0, at_most=1.0) == 2.0
    assert json.loads((tmp_path / "log.jsonl").read_text())["value"] == 2.0


def test_course_seed_shifts_by_the_environment(monkeypatch):
    monkeypatch.delenv("NN_COURSE_SEED", raising=False)
    assert course_seed(7) == 7
    monkeypatch.setenv("NN_COURSE_SEED", "2")
    assert course_seed(7) == 9
    monkeypatch.setenv("NN_COURSE_SEED", "two")
    with pytest.raises(ValueError, match="whole number"):
        course_seed(0)


def test_seed_everything_follows_the_course_seed(monkeypatch):
    from widgets.notebook import seed_everything

    monkeypatch.setenv("NN_COURSE_SEED", "1")
    shifted = seed_everything(0).random()
    monkeypatch.delenv("NN_COURSE_SEED")
    assert shifted == seed_everything(1).random() != seed_everything(0).random()


# ------------------------------------------------------------- the margins table
SOURCES = measure_margins.notebook_sources()
TABLE = {(row["notebook"], row["name"]): row for row in measure_margins.read_table()}


def test_the_lessons_make_claims():
    assert len(SOURCES) >= 5 and sum(len(measure_margins.claims_in(s)) for s in SOURCES) >= 50


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_every_claim_is_in_the_table_with_its_bound_and_a_positive_margin(source):
    notebook = str(source.relative_to(ROOT))
    claims = measure_margins.claims_in(source)
    names = [claim["name"] for claim in claims]
    assert len(names) == len(set(names)), "two claims of one notebook share a name"
    for claim in claims:
        row = TABLE.get((notebook, claim["name"]))
        assert row, (
            f"{notebook}: claim {claim['name']!r} is not in lessons/MARGINS.md; "
            f"run `python tools/measure_margins.py {notebook}`"
        )
        assert row["bound"] == measure_margins.bound_text(claim), (
            f"{notebook}: {claim['name']!r} has bound {measure_margins.bound_text(claim)} "
            f"but was measured against {row['bound']}; measure it again"
        )
        assert row["runs"] >= MINIMUM_RUNS, f"{claim['name']!r}: only {row['runs']} runs"
        # The margin is recomputed from the measured extremes, not read from the table.
        values = [row["min"], row["max"]]
        assert measure_margins.margin_of(claim, values) > 0, (
            f"{notebook}: {claim['name']!r} measured {row['min']:.4g}..{row['max']:.4g}, "
            f"outside or on its bound {row['bound']}"
        )


def test_the_table_has_no_rows_for_claims_that_are_gone():
    current = {
        (str(source.relative_to(ROOT)), claim["name"])
        for source in SOURCES
        for claim in measure_margins.claims_in(source)
    }
    assert set(TABLE) <= current, sorted(set(TABLE) - current)
