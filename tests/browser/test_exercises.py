"""A student version of an exercise in a real browser: checks say "not done yet", hints click."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_student_exercise_runs_and_its_hint_button_reveals_hints(lab):
    lab.open("lessons/exercises/01-perceptron.ipynb")
    lab.run_all()
    page = lab.page
    assert not lab.errors()  # a stub raising NotImplementedError must not surface as an error
    not_done = page.get_by_text(re.compile(r"○ Task \d .*not done yet"))
    not_done.first.wait_for()
    assert not_done.count() == 4  # one per check cell

    button = page.get_by_role("button", name=re.compile("Show hint 1 of 3"))
    button.click()
    page.get_by_text(re.compile("Hint 1\\.")).first.wait_for()
    assert page.get_by_role("button", name=re.compile("Show hint 2 of 3")).count() == 1
    assert page.get_by_text(re.compile("Hint 2\\.")).count() == 0
