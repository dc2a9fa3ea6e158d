# Thin wrapper: every target is `python tools/course.py TARGET` (which works without make,
# on Windows and inside a conda environment too). `make lab` to learn, `make test` to
# check everything (what CI runs via .ci/run). `TORCH=cpu make lab` installs PyTorch's
# CPU-only wheels; reruns skip every install that is up to date.

PYTHON ?= python3
COURSE := $(PYTHON) tools/course.py $(if $(TORCH),--torch $(TORCH))

.PHONY: lab test setup data sync notebooks student live bench labextension lint site clean-venv

lab test setup data sync notebooks student live bench labextension lint site:
	$(COURSE) $@

clean-venv:
	rm -rf .venv
