"""TrainingMonitor: series pairing, throttled drawing, divergence flags, interrupts, hooks."""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest
import torch
from torch import nn

from widgets.monitor import TrainingMonitor
from widgets.monitor_figure import MonitorFigure, sticky_range
from widgets.torch_training import fit


class FakeClock:
    """A clock the test moves by hand, so throttling is counted, not timed."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def widget_monitor(clock=None, **options) -> TrainingMonitor:
    return TrainingMonitor(view="widget", display=False, clock=clock or FakeClock(), **options)


# ---------------------------------------------------------------------- throttled drawing
def test_redraws_are_throttled_by_the_clock():
    clock = FakeClock()
    monitor = widget_monitor(clock, min_interval=0.5)
    initial = monitor.render_count  # the empty figure the widget starts with
    for index in range(20):  # one row every 0.25 s for 5 s
        clock.now = index * 0.25
        monitor.log(epoch=index + 1, loss=1.0 / (index + 1))
    # drawn at 0.0, 0.5, 1.0, ..., 4.5 s: the first row at once, then every other row
    assert monitor.render_count - initial == 10
    before_finish = monitor.render_count
    monitor.finish()  # the last row is always drawn
    assert monitor.render_count == before_finish + 1


def test_slow_redraws_wait_until_the_overhead_budget_allows_them():
    clock = FakeClock()

    class SlowFigure(MonitorFigure):
        slow = False

        def render(self, *args, **kwargs):  # each redraw "takes" 0.1 s once slow
            png = super().render(*args, **kwargs)
            clock.now += 0.1 if self.slow else 0.0
            return png

    monitor = widget_monitor(clock, min_interval=0.2, max_overhead=0.04, figure=SlowFigure())
    monitor.figure.slow = True  # from the first row on; the widget's empty picture was free
    initial = monitor.render_count
    drawn_at = []
    for second in range(12):
        clock.now = float(second)
        before = monitor.render_count
        monitor.log(epoch=second + 1, loss=1.0)
        if monitor.render_count > before:
            drawn_at.append(second)
    # The first row at once (0.1 s spent). The next redraw needs 0.1 s spent + 0.2 s for
    # two more to fit in 4 % of the time since the start: from 7.5 s on, so at 8; the
    # third needs 0.2 + 0.2 s, from 10 s on.
    assert drawn_at == [0, 8, 10]
    assert monitor.render_count - initial == 3
    assert monitor.seconds_inside == pytest.approx(0.3)


def test_the_image_changes_when_new_rows_are_drawn():
    clock = FakeClock()
    monitor = widget_monitor(clock)
    image = monitor.widget.children[-1]
    monitor.log(epoch=1, loss=1.0)
    first = image.value
    clock.now = 1.0
    monitor.log(epoch=2, loss=0.5)
    assert image.value != first
    assert bytes(image.value).startswith(b"\x89PNG")


def test_mimebundle_has_a_png_fallback_next_to_the_widget():
    monitor = widget_monitor()
    monitor.log(epoch=1, loss=1.0, val_loss=1.2)
    bundle = monitor._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == (
        monitor.widget.model_id
    )
    text_only = TrainingMonitor(view="text")
    assert "application/vnd.jupyter.widget-view+json" not in text_only._repr_mimebundle_()


def test_text_view_prints_progress_and_the_summary(capsys):
    clock = FakeClock()
    monitor = TrainingMonitor(view="text", clock=clock, min_interval=0)
    with monitor:
        for epoch in monitor.range(1, 4):
            clock.now += 2.0
            monitor.log(epoch=epoch, loss=1.0 / epoch, acc=0.5 + 0.1 * epoch)
    assert capsys.readouterr().out.splitlines() == [
        "[1/3] loss 1.0000 · acc 60.0 % (elapsed 00:02 · ETA 00:04)",
        "[2/3] loss 0.5000 · acc 70.0 % (elapsed 00:04 · ETA 00:02)",
        "[3/3] loss 0.3333 · acc 80.0 % (elapsed 00:06)",
        "Training finished at epoch 3.",
        "Best loss: 0.3333 at epoch 3.",
        "Final: loss 0.3333 · acc 80.0 %",
    ]


# ---------------------------------------------------------------------- divergence
def test_stop_on_divergence_ends_the_loop_and_says_where():
    monitor = TrainingMonitor(view="none", stop_on_divergence=True)
    ran = []
    with monitor:
        for epoch in monitor.range(1, 11):
            ran.append(epoch)
            monitor.log(epoch=epoch, loss=math.nan if epoch == 3 else 1.0)
    assert ran == [1, 2, 3]
    assert monitor.should_stop
    assert monitor.stopped_reason == "stopped at epoch 3 (diverged)"
    assert monitor.summary()["stopped"] == "stopped at epoch 3 (diverged)"


def test_a_flag_is_drawn_at_once_despite_the_throttle():
    clock = FakeClock()
    monitor = widget_monitor(clock, min_interval=10.0)
    monitor.log(epoch=1, loss=1.0)
    drawn = monitor.render_count
    clock.now = 0.1  # long before the throttle allows another redraw
    monitor.log(epoch=2, loss=math.inf)
    assert monitor.render_count == drawn + 1
    assert "diverging" in monitor.figure.panel_titles()["loss"]
    assert not monitor.should_stop  # only flagged: stopping is opt-in


# ---------------------------------------------------------------------- interrupts
def test_an_interrupt_keeps_the_history_and_says_where_it_stopped(capsys):
    monitor = TrainingMonitor(view="text", min_interval=0)
    with monitor:
        for epoch in monitor.range(1, 11):
            if epoch == 4:
                raise KeyboardInterrupt  # what Ctrl-C or the stop button raises
            monitor.log(epoch=epoch, loss=1.0 / epoch)
    assert len(monitor.history) == 3
    assert monitor.stopped_reason == "stopped at epoch 3 (interrupted)"
    assert "Training stopped at epoch 3 (interrupted)." in capsys.readouterr().out


def test_an_interrupt_can_be_raised_again_after_it_is_recorded():
    monitor = TrainingMonitor(view="none", reraise_interrupt=True)
    with pytest.raises(KeyboardInterrupt), monitor:
        monitor.log(epoch=1, loss=1.0)
        raise KeyboardInterrupt
    assert monitor.stopped_reason == "stopped at epoch 1 (interrupted)"


def test_other_errors_are_not_swallowed():
    monitor = TrainingMonitor(view="none")
    with pytest.raises(ZeroDivisionError), monitor:
        monitor.log(epoch=1, loss=1.0)
        1 / 0  # noqa: B018
    assert monitor.stopped_reason is None


def test_fit_returns_the_epochs_done_before_an_interrupt():
    torch.manual_seed(0)
    X, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    loader = [(X, y)]
    model = nn.Linear(4, 3)
    calls = []

    def loss_fn(outputs, targets):
        calls.append(1)
        if len(calls) == 3:  # the third epoch's batch
            raise KeyboardInterrupt
        return nn.functional.cross_entropy(outputs, targets)

    monitor = TrainingMonitor(view="none")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, loader, loss_fn, optimizer, epochs=5, monitor=monitor)
    assert [row["epoch"] for row in history] == [1, 2]
    assert monitor.stopped_reason == "stopped at epoch 2 (interrupted)"


# ---------------------------------------------------------------------- histograms
def test_watch_samples_weight_and_gradient_histograms_every_n_steps():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = TrainingMonitor(view="none").watch(model, every=2)
    X, y = torch.randn(16, 5), torch.randint(0, 2, (16,))
    gradients_at_step_3 = {}
    for step in range(1, 6):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        if step == 3:
            gradients_at_step_3 = {n: p.grad.clone() for n, p in model.named_parameters()}
            weights_at_step_3 = {n: p.detach().clone() for n, p in model.named_parameters()}
        optimizer.step()
    # only weight matrices (biases are 1-D), sampled at backward passes 1, 3 and 5
    assert [(e["name"], e["step"]) for e in monitor.histograms] == [
        (name, step) for step in (1, 3, 5) for name in ("2.weight", "0.weight")
    ]
    entry = next(e for e in monitor.histograms if e["step"] == 3 and e["name"] == "0.weight")
    gradient = gradients_at_step_3["0.weight"].abs().flatten()
    magnitudes = gradient[gradient > 0].log10().numpy()  # torch's log10, to the last bit
    expected, _ = np.histogram(magnitudes, bins=entry["grad_log10_edges"])
    np.testing.assert_allclose(entry["grad_log10_fractions"], expected / expected.sum(), atol=1e-6)
    expected, _ = np.histogram(weights_at_step_3["0.weight"].numpy(), bins=entry["weight_edges"])
    np.testing.assert_allclose(entry["weight_fractions"], expected / expected.sum(), atol=1e-6)
    assert entry["grad_zero_fraction"] == pytest.approx(float((gradient == 0).float().mean()))

    monitor.unwatch()
    nn.functional.cross_entropy(model(X), y).backward()
    assert len(monitor.histograms) == 6  # no hooks left behind


def test_finish_removes_the_hooks_and_histograms_are_drawn():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    monitor = widget_monitor().watch(model, every=1)
    model(torch.randn(2, 3)).sum().backward()
    monitor.log(epoch=1, loss=1.0)
    assert {"#weights", "#gradients"} <= set(monitor.figure.panel_titles())
    monitor.finish()
    model(torch.randn(2, 3)).sum().backward()
    assert len(monitor.histograms) == 2


def test_watch_explains_a_model_without_weight_matrices():
    with pytest.raises(ValueError, match="no trainable weight matrices"):
        TrainingMonitor(view="none").watch(nn.BatchNorm1d(3))


def test_bad_settings_are_reported_clearly():
    with pytest.raises(ValueError, match="view must be"):
        TrainingMonitor(view="pretty")
    with pytest.raises(ValueError, match="divergence_factor must be above 1"):
        TrainingMonitor(divergence_factor=0.5)


# ---------------------------------------------------------------------- blitted drawing
def test_sticky_ranges_change_only_when_needed():
    assert sticky_range((0.0, 2.0), [0.5, 1.5]) == (0.0, 2.0)  # holds the values: kept
    assert sticky_range((0.0, 2.0), [0.5, 2.5]) == pytest.approx((-0.3, 3.3))  # 40 % margins
    assert sticky_range((0.0, 100.0), [1.0, 2.0]) == pytest.approx((0.6, 2.4))  # too wide: zoom in
    assert sticky_range((0.0, 1.0), [0.9, 0.98], bounds=(0.0, 1.0)) == pytest.approx((0.868, 1.0))
    assert sticky_range((1.0, 2.0), [1e-4, 1e-1], log=True) == pytest.approx((10**-5.2, 10**0.2))
    assert sticky_range((0.0, 1.0), [math.nan]) is None


@pytest.mark.parametrize("watch", [False, True])
def test_partial_redraws_look_exactly_like_a_full_redraw(watch):
    clock = FakeClock()
    monitor = widget_monitor(clock, min_interval=0.0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    if watch:  # two rows of panels
        monitor.watch(model, every=1)
    rows = [(1.0, 0.1), (0.8, 0.1), (0.7, 0.01), (0.65, 0.001), (0.3, 0.0001)]
    redrawn = []
    for epoch, (loss, lr) in enumerate(rows, start=1):
        clock.now = float(epoch)
        model(torch.randn(4, 6)).sum().backward()
        monitor.log(epoch=epoch, loss=loss, val_loss=loss + 0.1, acc=0.5 + 0.1 * epoch, lr=lr)
        redrawn.append(monitor.figure.last_redrawn)
    assert redrawn[0] == ("all",)  # the first row lays the figure out
    assert "all" not in {name for names in redrawn[1:] for name in names}
    assert "lr" in {name for names in redrawn[1:] for name in names}  # its range changed
    partial = monitor.png()
    assert monitor.png(full=True) == partial  # drawn from scratch: the very same pixels


def test_only_panels_whose_range_changes_are_redrawn():
    clock = FakeClock()
    monitor = widget_monitor(clock, min_interval=0.0)
    losses = [1.0, 0.5, 0.45, 0.42, 0.41, 5.0]
    redrawn = {}
    for epoch in monitor.range(1, 11):  # the x axis spans epochs 1 to 10 from the start
        clock.now += 1.0
        monitor.log(epoch=epoch, loss=losses[epoch - 1], acc=0.8)
        redrawn[epoch] = monitor.figure.last_redrawn
        if epoch == len(losses):
            break
    # 0.45, 0.42, 0.41 lie inside the y range set for 1.0 and 0.5: only the lines are
    # painted; 5.0 is far outside: the loss panel alone is redrawn.
    assert [redrawn[epoch] for epoch in (3, 4, 5, 6)] == [(), (), (), ("loss",)]


def test_large_layers_are_sampled_with_an_even_stride():
    torch.manual_seed(0)
    layer = nn.Linear(300, 100)  # 30 000 weights: every third one is kept (30 000 // 8192)
    monitor = TrainingMonitor(view="none").watch(layer, every=1)
    layer(torch.randn(4, 300)).sum().backward()
    entry = monitor.histograms[0]
    expected, _ = np.histogram(layer.weight.detach().flatten()[::3].numpy(), entry["weight_edges"])
    np.testing.assert_allclose(entry["weight_fractions"], expected / expected.sum(), atol=1e-6)
