# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 0 · Setup check (5 min)
#
# Run this notebook first (**Run → Run All Cells**). It checks, one by one, that
# everything the course needs is in place, and ends with a one-line verdict.
#
# 1. the Python packages and their versions,
# 2. interactive widgets: a slider that talks to the kernel,
# 3. the device PyTorch will use (CUDA, Apple's MPS or the CPU),
# 4. the datasets on this machine, and how to fetch the missing ones.
#
# If a cell reports a problem, its message says how to fix it.

# %%
from importlib.metadata import PackageNotFoundError, version

REQUIRED = {  # package: oldest version the course is tested with
    "numpy": "1.24",
    "torch": "2.1",
    "torchvision": "0.16",
    "matplotlib": "3.7",
    "ipywidgets": "8.0",
    "jupyterlab": "4.0",
    "jupytext": "1.16",
}
problems = []


def as_tuple(text):
    return tuple(int(part) for part in text.split("+")[0].split(".")[:2] if part.isdigit())


# %% [markdown]
# ## 1. Packages
# Each line shows the installed version; `✗` marks a package that is missing or too old.

# %%
import sys

print(f"Python {sys.version.split()[0]}")
for package, oldest in REQUIRED.items():
    try:
        installed = version(package)
    except PackageNotFoundError:
        problems.append(f"{package} is not installed: run `make lab` (or `pip install -e .`)")
        print(f"✗ {package:12s} missing")
        continue
    ok = as_tuple(installed) >= as_tuple(oldest)
    if not ok:
        problems.append(f"{package} {installed} is older than {oldest}: run `make lab` to update")
    print(f"{'✓' if ok else '✗'} {package:12s} {installed}")

# %% [markdown]
# ## 2. Widgets
# Move the slider (drag it, or click it and press the arrow keys). The text below it
# is computed **by the kernel**: when it follows the slider, widgets work both ways.
# If you see `Error displaying widget` or nothing at all, reload the page; in
# classic Jupyter Notebook, upgrade to JupyterLab 4 or Notebook 7.

# %%
import ipywidgets as w

slider = w.IntSlider(value=3, min=0, max=10, description="x")
answer = w.Label()


def show_square(change=None):
    answer.value = f"the kernel says: x = {slider.value}, x² = {slider.value ** 2}"


slider.observe(show_square, names="value")
show_square()
w.VBox([slider, answer])

# %% [markdown]
# From code, a widget behaves just like in the browser: setting its value runs the same
# handler. This is how the course's widgets are tested.

# %% tags=["nbval-check-output"]
slider.value = 4
assert answer.value == "the kernel says: x = 4, x² = 16", answer.value
slider.value = 3
print(answer.value)

# %% [markdown]
# ## 3. Device
# The lessons run on whatever this prints, unchanged: CUDA (NVIDIA GPU), MPS (Apple
# silicon) or the CPU. Every lesson fits the CPU's time budget.

# %%
import torch

from widgets.notebook import pick_device

device = pick_device()
print(f"PyTorch {torch.__version__} will use: {device}")
if device.type == "cuda":
    print(f"  GPU: {torch.cuda.get_device_name(device)}")
x = torch.ones(3, device=device)
assert float((x * 2).sum()) == 6.0

# %% [markdown]
# ## 4. Datasets
# Fashion-MNIST is required (it comes offline from Debian's `dataset-fashion-mnist`
# package, or by download). MNIST and CIFAR-10 are optional: lessons that mention them
# fall back to Fashion-MNIST and say so.

# %%
from widgets import data

for name in data.DATASETS:
    present = data.is_present(name)
    if not present and name == "fashion-mnist":
        try:  # seeds it from Debian's package when that is installed
            data.fetch(name, download=False)
            present = True
        except data.DataUnavailable as error:
            problems.append(str(error))
    how = "" if present else f"   → to get it: `python -m widgets.data fetch {name}` (online)"
    print(f"{'✓' if present else '·'} {name:14s} {'present' if present else 'missing'}{how}")
print(f"data root: {data.data_root()}")

# %% [markdown]
# ## Verdict

# %% tags=["nbval-check-output"]
if problems:
    print("✗ Something needs fixing before the course:")
    for problem in problems:
        print("  -", problem)
else:
    print("✓ Your setup is ready for the course. Next: lesson 1, the perceptron (01-perceptron).")
