"""pytest settings shared by the unit tests and nbval's run over lessons/**/*.ipynb."""

import os

# The live-coding copies (lessons/live/) have cells emptied on purpose: nbval does not run
# them; tests/test_live_copies.py runs each up to its first emptied cell.
collect_ignore_glob = ["lessons/live/*"]


def pytest_collectstart(collector):
    # nbval already skips PNG/JPEG and widget model ids; SVG carries random element ids.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("image/svg+xml",)


# No test reaches beyond 127.0.0.1: lessons and widgets.data never download a missing
# dataset on first use during tests (kernels started by nbval inherit this too).
os.environ.setdefault("NN_COURSE_OFFLINE", "1")


def _start_kernels_with_retries():
    """nbval starts one kernel per notebook; with two xdist workers starting kernels at
    the same moment, jupyter_client's pick of free TCP ports can race and a kernel dies
    before it answers ("Kernel died before replying to kernel_info": one fresh-clone run
    in five here). A kernel that dies while *starting* has run no notebook code, so
    starting it again changes nothing the test checks."""
    try:
        from nbval import kernel
    except ImportError:  # nbval is a test extra; the unit tests run without it too
        return
    start_once = kernel.start_new_kernel

    def start_new_kernel(*args, **kwargs):
        for attempt in range(1, 4):
            try:
                return start_once(*args, **kwargs)
            except RuntimeError:
                if attempt == 3:
                    raise

    kernel.start_new_kernel = start_new_kernel


_start_kernels_with_retries()
