"""pytest settings shared by the unit tests and nbval's run over lessons/**/*.ipynb."""


def pytest_collectstart(collector):
    # nbval already skips PNG/JPEG and widget model ids; SVG carries random element ids.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("image/svg+xml",)
