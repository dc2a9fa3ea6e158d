"""Lesson 6's transfer-learning pieces: the noisy sensor, the few labels, the three modes."""

import pytest
import torch
from torch import nn

from widgets.transfer import TRANSFER_MODES, first_per_class, sensor_noise, transfer_model


def test_sensor_noise_has_the_asked_spread_and_is_fixed_by_its_seed():
    images = torch.zeros(200, 784)
    noisy = sensor_noise(images, 1.5, seed=7)
    assert abs(noisy.std().item() - 1.5) < 0.02
    assert torch.equal(noisy, sensor_noise(images, 1.5, seed=7))
    assert not torch.equal(noisy, sensor_noise(images, 1.5, seed=8))
    assert torch.equal(sensor_noise(images, 0.0, seed=7), images)
    with pytest.raises(ValueError, match="sigma"):
        sensor_noise(images, -1.0, seed=0)


def test_first_per_class_picks_k_of_each_class_after_the_skip():
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 2, 1, 2, 0])
    picked = first_per_class(labels, 2, classes=range(3))
    assert picked.tolist() == [0, 2, 1, 4, 3, 6]
    assert first_per_class(labels, 1, classes=[0], skip=2).tolist() == [5]
    with pytest.raises(ValueError, match="class 2 has only 1"):
        first_per_class(labels, 2, classes=[2], skip=2)


def _body():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU())


def _one_step(model, optimizer):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(torch.randn(8, 4)), torch.arange(8) % 2).backward()
    optimizer.step()


@pytest.mark.parametrize("mode", TRANSFER_MODES)
def test_transfer_model_loads_freezes_and_sets_rates_as_each_mode_says(mode):
    pretrained = {name: torch.full_like(value, 0.5) for name, value in _body().state_dict().items()}
    model, optimizer = transfer_model(
        _body(), nn.Linear(3, 2), mode, lr=0.1, pretrained=pretrained, body_lr_factor=0.1
    )
    body_weight = model[0][0].weight
    if mode == "from scratch":
        assert not torch.equal(body_weight, pretrained["0.weight"])
    else:
        assert torch.equal(body_weight, pretrained["0.weight"])
    before = body_weight.detach().clone()
    _one_step(model, optimizer)
    moved = (body_weight.detach() - before).abs().max().item()
    if mode == "frozen features":
        assert moved == 0.0 and not body_weight.requires_grad
        assert len(optimizer.param_groups) == 1
    else:
        assert moved > 0.0
    rates = sorted(group["lr"] for group in optimizer.param_groups)
    expected = {"fine-tuning": [pytest.approx(0.01), 0.1]}.get(mode, [0.1])
    assert rates == expected


def test_fine_tuning_moves_the_body_less_than_one_rate_for_all():
    pretrained = {name: torch.full_like(value, 0.5) for name, value in _body().state_dict().items()}
    moved = {}
    for mode in ("fine-tuning", "fine-tuning, one rate"):
        torch.manual_seed(1)
        model, optimizer = transfer_model(
            _body(), nn.Linear(3, 2), mode, lr=0.1, pretrained=pretrained
        )
        torch.manual_seed(2)
        _one_step(model, optimizer)
        moved[mode] = (model[0][0].weight.detach() - 0.5).abs().max().item()
    # Adam's first step moves each weight by about its rate: 10x smaller rate, 10x less.
    assert moved["fine-tuning"] == pytest.approx(moved["fine-tuning, one rate"] / 10, rel=1e-3)


def test_transfer_model_names_bad_modes_and_missing_weights():
    with pytest.raises(ValueError, match="mode must be one of"):
        transfer_model(_body(), nn.Linear(3, 2), "frozen", lr=0.1)
    with pytest.raises(ValueError, match="needs the pretrained weights"):
        transfer_model(_body(), nn.Linear(3, 2), "fine-tuning", lr=0.1)
