"""Lesson 6 in a real browser: Run All goes through every cell without an error.

The notebook is the longest of the course (about a minute on an idle 2-core machine,
several on a loaded one), so the wait is generous. Errors are read from the notebook's
model rather than from the page: JupyterLab renders only the cells near the viewport, so
an error far down would not be in the DOM.
"""

import pytest

pytestmark = pytest.mark.browser

# Runs in the page: every code cell's execution count and its errors and stderr text.
CELL_REPORT = """() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    const report = [];
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        const outputs = cell.toJSON().outputs || [];
        report.push({
            index: i,
            count: cell.toJSON().execution_count,
            problems: outputs
                .filter(o => o.output_type === 'error'
                    || (o.output_type === 'stream' && o.name === 'stderr'))
                .map(o => o.output_type === 'error'
                    ? `${o.ename}: ${o.evalue}` : [].concat(o.text).join('')),
            text: outputs
                .filter(o => o.output_type === 'stream' && o.name === 'stdout')
                .map(o => [].concat(o.text).join('')).join(''),
        });
    }
    return report;
}"""


def test_lesson_6_runs_to_the_end_without_errors(lab):
    lab.open("lessons/06-pytorch-advanced.ipynb")
    page = lab.page
    # The stored outputs are there before running; clear them so every output is new.
    page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    lab.run_all(timeout_s=1200)

    report = page.evaluate(CELL_REPORT)
    assert len(report) > 40
    problems = [(cell["index"], cell["problems"]) for cell in report if cell["problems"]]
    assert not problems, problems
    not_run = [cell["index"] for cell in report if cell["count"] is None]
    assert not not_run, f"cells that never ran (Run All stopped early): {not_run}"
    text = "\n".join(cell["text"] for cell in report)
    # The last experiments and the closing cell printed what they should.
    assert "all five answers agree with the experiments" in text
    assert "lesson 6 ran in" in text
