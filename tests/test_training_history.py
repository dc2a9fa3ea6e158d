"""TrainingHistory, the monitor's model: series, panels, flags and summary as plain data.

Nothing here needs ipywidgets or matplotlib (the first test checks that it imports
neither); the drawing is tested in tests/test_monitor.py.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from widgets.training_history import TrainingHistory, split_name


def test_the_history_imports_no_drawing_or_widget_library():
    code = (
        "import sys, widgets.training_history as h; h.TrainingHistory().log(loss=1.0); "
        "print(sorted(m for m in ('matplotlib', 'ipywidgets') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# ---------------------------------------------------------------------- series and pairing
@pytest.mark.parametrize(
    "name, expected",
    [
        ("loss", ("loss", "train")),
        ("val_loss", ("loss", "val")),
        ("train_acc", ("acc", "train")),
        ("validation_accuracy", ("accuracy", "val")),
        ("test_f1", ("f1", "test")),
        ("val_", ("val_", "train")),  # a bare prefix is a name, not a role
    ],
)
def test_split_name_separates_panel_and_role(name, expected):
    assert split_name(name) == expected


def test_panels_pair_train_and_validation_and_order_them():
    history = TrainingHistory()
    history.log(epoch=1, lr=0.1, val_acc=0.5, f1=0.3, val_loss=1.2, train_loss=1.0, acc=0.4)
    assert history.panels() == {
        "loss": ["train_loss", "val_loss"],
        "acc": ["acc", "val_acc"],
        "f1": ["f1"],
        "lr": ["lr"],
    }


def test_series_use_epoch_then_step_then_call_number_as_x():
    by_epoch = TrainingHistory()
    for epoch in (1, 2, 3):
        by_epoch.log(epoch=epoch, loss=1.0 / epoch)
    assert by_epoch.series("loss") == ([1, 2, 3], [1.0, 0.5, 1.0 / 3])

    by_step = TrainingHistory()
    by_step.log(step=100, loss=0.9)
    by_step.log(step=200, loss=0.7)
    assert by_step.series("loss") == ([100, 200], [0.9, 0.7])

    by_call = TrainingHistory()
    by_call.log(loss=0.9)
    by_call.log(loss=0.8, val_loss=0.85)
    assert by_call.series("loss") == ([1.0, 2.0], [0.9, 0.8])
    assert by_call.series("val_loss") == ([2.0], [0.85])  # series may be sparse


def test_history_is_plain_data_and_a_copy():
    history = TrainingHistory()
    history.log(epoch=1, loss=np.float32(0.5), acc=torch.tensor(0.75))
    rows = history.rows
    assert rows == [{"epoch": 1, "loss": 0.5, "acc": 0.75}]
    assert all(type(value) in (int, float) for value in rows[0].values())
    rows[0]["loss"] = 99.0
    assert history.rows[0]["loss"] == 0.5


def test_log_rejects_what_is_not_one_number():
    history = TrainingHistory()
    with pytest.raises(TypeError, match=r"loss\.mean\(\)\.item\(\)"):
        history.log(epoch=1, loss=torch.ones(3))
    with pytest.raises(TypeError, match="needs a number"):
        history.log(epoch=1, loss="low")
    with pytest.raises(ValueError, match="no metrics"):
        history.log(epoch=1)
    with pytest.raises(KeyError, match="logged so far: none yet"):
        history.series("loss")


def test_summary_picks_the_best_validation_epoch():
    history = TrainingHistory()
    for epoch, (loss, val_loss) in enumerate([(1.0, 1.1), (0.6, 0.7), (0.4, 0.8)], start=1):
        history.log(epoch=epoch, loss=loss, val_loss=val_loss)
    summary = history.summary()
    assert summary["best_by"] == "val_loss"
    assert summary["best"] == {"epoch": 2, "loss": 0.6, "val_loss": 0.7}
    assert summary["final"]["epoch"] == 3
    assert summary["stopped"] is None
    assert history.summary_text().splitlines() == [
        "Training finished at epoch 3.",
        "Best val_loss: 0.7000 at epoch 2.",
        "Final: loss 0.4000 · val_loss 0.8000",
    ]


# ---------------------------------------------------------------------- divergence
def test_nan_and_inf_are_flagged_once_per_series():
    history = TrainingHistory()
    history.log(epoch=1, loss=1.0, val_loss=1.0)
    history.log(epoch=2, loss=math.nan, val_loss=math.inf)
    history.log(epoch=3, loss=math.nan, val_loss=1.0)
    assert [(f.name, f.x) for f in history.flags] == [("loss", 2), ("val_loss", 2)]
    assert history.flags[0].reason == "loss is nan at epoch 2"


def test_a_training_loss_far_above_its_best_is_flagged():
    history = TrainingHistory(divergence_factor=5.0)
    for epoch, loss in enumerate([1.0, 0.5, 2.4, 0.6, 2.6], start=1):
        history.log(epoch=epoch, loss=loss, val_loss=0.1 * 10**epoch)
    # 2.4 is 4.8x the best (0.5): not yet; 2.6 is 5.2x: flagged. The validation loss
    # grows 10x per epoch but is never flagged: that is overfitting, not divergence.
    assert [(f.name, f.x) for f in history.flags] == [("loss", 5)]
    assert "5× its best so far (0.5)" in history.flags[0].reason
