"""widgets.data fetches a missing dataset the first time a lesson needs it, when allowed.

data.fetch itself (downloads, checks, atomic writes) is tested in test_data.py; here it
is replaced by a recorder, so these tests only see the decision when to call it.
"""

import pytest

from widgets import data


@pytest.fixture
def fetch_calls(monkeypatch):
    calls = []

    def recording_fetch(name, root=None, *, download=True):
        calls.append((name, download))

    monkeypatch.setattr(data, "fetch", recording_fetch)
    return calls


def test_online_a_missing_dataset_is_fetched_on_first_use(
    fetch_calls, monkeypatch, tmp_path, capsys
):
    monkeypatch.delenv(data.OFFLINE_ENV, raising=False)
    assert data.resolve_dataset("mnist", tmp_path) == "mnist"
    assert fetch_calls == [("mnist", True)]
    assert capsys.readouterr().out == f"MNIST is not in {tmp_path} yet: downloading it once.\n"


def test_when_the_download_fails_mnist_falls_back_as_before(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(data.OFFLINE_ENV, raising=False)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-such-package")
    attempted = []

    def offline_fetch(name, root=None, *, download=True):
        attempted.append((name, download))
        raise data.DataUnavailable(f"{name}: the server could not be reached")

    monkeypatch.setattr(data, "fetch", offline_fetch)
    with pytest.raises(data.DataUnavailable, match="fashion-mnist: the server could not"):
        data.resolve_dataset("mnist", tmp_path)
    said = capsys.readouterr().out
    assert "uses Fashion-MNIST instead" in said
    # MNIST tried once, then Fashion-MNIST: a download, then the offline explanation
    assert attempted == [("mnist", True), ("fashion-mnist", True), ("fashion-mnist", False)]


def test_offline_setting_attempts_no_download(fetch_calls, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    with pytest.raises(data.DataUnavailable, match="CIFAR-10 is not in"):
        data.resolve_dataset("cifar10", tmp_path)
    assert fetch_calls == []
    assert capsys.readouterr().out == ""
