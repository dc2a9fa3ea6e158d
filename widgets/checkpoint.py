"""Checkpoints that let training stop and resume exactly where it left off.

A checkpoint holds everything the next training step depends on: the model's weights,
the optimizer's state (Adam's moment estimates, momentum buffers), the scheduler's
position, the epoch, and the random number generators (they decide the next shuffle
and the next dropout mask). Restore all of them and the resumed run is the
uninterrupted run, loss for loss.

Three safety rules:

* writes are atomic: the file is written next to its destination and renamed over it
  with :func:`os.replace`, so an interrupted save leaves the previous checkpoint intact;
* loading uses ``torch.load(..., weights_only=True)``, which refuses to run arbitrary
  code hidden in a pickle, so everything saved here is tensors and plain Python values;
* a checkpoint that does not fit the model raises :class:`CheckpointMismatchError`
  naming the missing, unexpected and wrongly shaped parameters.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import random
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

CHECKPOINT_FORMAT = 1


class CheckpointMismatchError(ValueError):
    """A checkpoint's parameters do not fit the model it is loaded into."""


# --------------------------------------------------------------------------- RNG state
def capture_rng_state() -> dict:
    """The state of every random number generator training uses, as weights_only-safe values.

    NumPy's state is converted to a tensor and ints, because ``weights_only`` loading
    accepts tensors and plain Python values but not NumPy arrays.
    """
    bit_generator, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {
            "bit_generator": bit_generator,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Put every generator back where :func:`capture_rng_state` found it."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    saved = state["numpy"]
    np.random.set_state(
        (
            saved["bit_generator"],
            saved["keys"].numpy().astype(np.uint32),
            saved["position"],
            saved["has_gauss"],
            saved["cached_gaussian"],
        )
    )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --------------------------------------------------------------------------- saving
def atomic_torch_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place.

    The rename is atomic on one file system: readers see the old file or the new one,
    never half of one. If saving fails (disk full, Ctrl-C), the temporary file is
    removed and the previous ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
    )
    try:
        with handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        os.replace(handle.name, path)
    except BaseException:  # KeyboardInterrupt too: never leave a stray partial file
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise
    return path


def save_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    *,
    epoch: int,
    metrics: dict | None = None,
    generators: dict[str, torch.Generator] | None = None,
) -> Path:
    """Save everything needed to resume training after ``epoch`` (atomically).

    ``metrics`` holds plain values worth keeping with the weights (validation loss,
    the loss history so far); they come back from :func:`load_checkpoint`.
    ``generators`` names the private ``torch.Generator`` objects training draws from
    besides the global ones, e.g. ``{"shuffle": train_loader.generator}`` for a
    ``DataLoader`` that shuffles with its own generator.
    """
    rng = capture_rng_state()
    rng["generators"] = {name: gen.get_state() for name, gen in (generators or {}).items()}
    state = {
        "format": CHECKPOINT_FORMAT,
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng,
        "metrics": dict(metrics or {}),
    }
    return atomic_torch_save(state, path)


# --------------------------------------------------------------------------- loading
class CheckpointReadError(ValueError):
    """A file cannot be read as a checkpoint; the message names the file, the problem and a fix."""


# A checkpoint that cannot be read is damaged or foreign: the fix is never to load it with
# fewer safety checks (weights_only=False would run whatever code a corrupt or hostile
# pickle holds), but to get an intact copy.
_GET_AN_INTACT_COPY = (
    "If it is a copy or a download, copy or download it again; if you made it, save it "
    "again with save_checkpoint (training resumes from the last good checkpoint)."
)
# "GLOBAL module.Name" in torch's refusal: the class the pickle wants to build.
_REFUSED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")
# Every part save_checkpoint writes, and the type each part must have.
_CHECKPOINT_PARTS = {
    "epoch": int,
    "model": dict,
    "optimizer": (dict, type(None)),
    "scheduler": (dict, type(None)),
    "rng": dict,
    "metrics": dict,
}
_RNG_PARTS = ("torch", "python", "numpy")


def _read_checkpoint(path: Path, map_location) -> dict:
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give the path of the checkpoint file in it")
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: check the path, or train and save first")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointReadError(
            f"{path} is empty (0 bytes), not a checkpoint. {_GET_AN_INTACT_COPY}"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        refused = _REFUSED_GLOBAL.search(str(error))
        if refused is None:  # the weights-only unpickler choked on damaged bytes
            raise CheckpointReadError(_unreadable(path, size, error)) from None
        raise CheckpointReadError(
            f"{path} holds a {refused.group(1)} object, which is neither a tensor nor a plain "
            "value, so weights_only loading refused it (a pickle can run code while it loads). "
            "save_checkpoint never writes such objects. Only if you trust where the file came "
            "from and know that class, allow exactly it: "
            "`with torch.serialization.safe_globals([TheClass]): torch.load(path)`."
        ) from None
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as error:  # damaged bytes fail in any of a dozen ways inside torch.load
        raise CheckpointReadError(_unreadable(path, size, error)) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointReadError(
            f"{path} was not written by save_checkpoint (no 'format': {CHECKPOINT_FORMAT} entry); "
            "for a bare state_dict use model.load_state_dict(torch.load(path, weights_only=True))"
        )
    wrong = [
        f"{part} ({'missing' if part not in state else type(state[part]).__name__})"
        for part, kind in _CHECKPOINT_PARTS.items()
        if part not in state or not isinstance(state[part], kind)
    ]
    if not wrong:
        wrong += [
            f"model[{key!r}] ({type(value).__name__}, not a tensor)"
            for key, value in state["model"].items()
            if not isinstance(value, torch.Tensor)
        ]
        wrong += [f"rng[{key!r}] (missing)" for key in _RNG_PARTS if key not in state["rng"]]
    if wrong:
        raise CheckpointReadError(
            f"{path} looks like a save_checkpoint file but these parts are missing or of the "
            f"wrong type: {', '.join(wrong)}. {_GET_AN_INTACT_COPY}"
        )
    return state


def _unreadable(path: Path, size: int, error: Exception) -> str:
    text = str(error)
    # torch's weights-only errors wrap the reason in advice to retry with weights_only=False,
    # which is wrong for a damaged file: keep only the reason.
    unpickler_reason = re.search(r"WeightsUnpickler error:\s*(.*)", text)
    if unpickler_reason:
        text = unpickler_reason.group(1)
    reason = " ".join(text.split())
    if not reason or "weights_only" in reason:
        reason = "no further detail"
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return (
        f"{path} is not a readable PyTorch checkpoint ({size} bytes; {type(error).__name__}: "
        f"{reason}). It is damaged (for example cut off by an interrupted copy or download) "
        f"or not a checkpoint at all. {_GET_AN_INTACT_COPY}"
    )


def check_state_dict_fits(
    model: torch.nn.Module, state_dict: dict, *, source: str = "checkpoint"
) -> None:
    """Raise :class:`CheckpointMismatchError` listing every key or shape that does not fit.

    ``load_state_dict`` would also complain, but one problem type at a time and with
    the model's internal names only; this names all of them together and how to fix it.
    """
    expected = model.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    wrong_shapes = [
        f"{key}: {source} {tuple(state_dict[key].shape)}, model {tuple(expected[key].shape)}"
        for key in expected
        if key in state_dict and tuple(state_dict[key].shape) != tuple(expected[key].shape)
    ]
    if not (missing or unexpected or wrong_shapes):
        return
    lines = [f"the {source} does not fit this {type(model).__name__}:"]
    if wrong_shapes:
        lines.append("  shapes differ: " + "; ".join(wrong_shapes))
    if missing:
        lines.append("  missing from the " + source + ": " + ", ".join(missing))
    if unexpected:
        lines.append("  not in the model: " + ", ".join(unexpected))
    lines.append(
        "Build the model with the same architecture (layer sizes, layer order) as the one "
        "that was saved, or load only the matching layers on purpose (see transfer learning)."
    )
    raise CheckpointMismatchError("\n".join(lines))


def load_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    *,
    restore_rng: bool = True,
    generators: dict[str, torch.Generator] | None = None,
    map_location="cpu",
) -> dict:
    """Load a :func:`save_checkpoint` file into ``model`` (and optimizer, scheduler, RNGs).

    Returns ``{"epoch": ..., "metrics": {...}}``; training resumes at ``epoch + 1``.
    ``generators`` are restored from the states saved under the same names.
    Everything is checked first, so nothing is modified when the checkpoint does not fit.
    """
    path = Path(path)
    state = _read_checkpoint(path, map_location)
    check_state_dict_fits(model, state["model"], source=f"checkpoint {path.name}")
    for name, part in (("optimizer", optimizer), ("scheduler", scheduler)):
        if part is not None and state[name] is None:
            raise ValueError(f"{path} has no {name} state: it was saved without a {name}")
    saved_generators = state["rng"].get("generators", {})
    absent = [name for name in (generators or {}) if name not in saved_generators]
    if absent:
        raise ValueError(
            f"{path} has no state for generator(s) {', '.join(absent)}; "
            f"it saved: {', '.join(saved_generators) or 'none'}"
        )
    model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    if restore_rng:
        restore_rng_state(state["rng"])
    for name, generator in (generators or {}).items():
        generator.set_state(saved_generators[name])
    return {"epoch": state["epoch"], "metrics": state["metrics"]}


# --------------------------------------------------------------------------- keep the best
class BestCheckpoint:
    """Keep the checkpoint of the best epoch seen so far (lowest ``metric`` by default).

    Call :meth:`update` after every validation; it saves only on improvement.
    :attr:`epochs_since_best` is what early stopping watches::

        best = BestCheckpoint(folder / "best.pt")
        for epoch in range(100):
            ...
            best.update(val_loss, model, epoch=epoch)
            if best.epochs_since_best >= patience:
                break
        best.restore(model)
    """

    def __init__(self, path: str | os.PathLike, *, mode: str = "min", min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' (losses) or 'max' (accuracies), not {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best_value = math.inf if mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.last_epoch: int | None = None

    def is_improvement(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def update(self, value: float, model, optimizer=None, scheduler=None, *, epoch: int) -> bool:
        """Record ``value`` for ``epoch``; save a checkpoint and return True if it is the best."""
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"the metric is NaN at epoch {epoch}: training diverged")
        self.last_epoch = epoch
        if not self.is_improvement(value):
            return False
        self.best_value, self.best_epoch = value, epoch
        save_checkpoint(
            self.path, model, optimizer, scheduler, epoch=epoch, metrics={"value": value}
        )
        return True

    @property
    def epochs_since_best(self) -> int:
        if self.best_epoch is None or self.last_epoch is None:
            return 0
        return self.last_epoch - self.best_epoch

    def restore(self, model, optimizer=None, scheduler=None) -> dict:
        """Load the best weights back into ``model`` (RNGs are left alone)."""
        if self.best_epoch is None:
            raise RuntimeError("no checkpoint yet: call update() at least once before restore()")
        return load_checkpoint(self.path, model, optimizer, scheduler, restore_rng=False)
