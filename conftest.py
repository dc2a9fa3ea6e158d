"""pytest settings shared by the unit tests and nbval's run over lessons/**/*.ipynb."""

import os


def pytest_collectstart(collector):
    # nbval already skips PNG/JPEG and widget model ids; SVG carries random element ids.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("image/svg+xml",)


# No test reaches beyond 127.0.0.1: lessons and widgets.data never download a missing
# dataset on first use during tests (kernels started by nbval inherit this too).
os.environ.setdefault("NN_COURSE_OFFLINE", "1")
