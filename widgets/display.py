"""How every widget of the course shows itself: PNG pictures and the display bundle.

Two jobs, one home:

* encoding a matplotlib figure as PNG: :func:`canvas_png` takes the pixels an Agg canvas
  already holds (no second draw, fast zlib settings: a live view replaces the picture a
  moment later), :func:`figure_png` draws and encodes a figure for a one-off picture;
* :func:`widget_bundle`, the ``_repr_mimebundle_`` of every widget: ipywidgets' own
  bundle for the live view, plus an ``image/png`` that pages without a kernel (GitHub,
  nbviewer, a closed notebook) show instead of "Error displaying widget".
"""

from __future__ import annotations

import base64
import functools
import io


def canvas_png(canvas) -> bytes:
    """The pixels an Agg canvas holds, as PNG, without drawing again (``print_png`` would)."""
    from PIL import Image

    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def figure_png(figure, dpi: float | None = None) -> bytes:
    """Draw ``figure`` (any matplotlib figure) and return it as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi if dpi is not None else figure.dpi)
    return buffer.getvalue()


@functools.cache
def blank_png() -> bytes:
    """A small white picture, for a view with nothing to show yet."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="png")
    return buffer.getvalue()


def widget_bundle(widget, png: bytes, text: str, **kwargs) -> dict:
    """A display bundle: ``widget``'s live view (when there is one), ``png`` and ``text``.

    The widget part comes from ipywidgets' own ``_repr_mimebundle_``, so it follows
    whatever version of the widget protocol is installed. ``widget=None`` (no frontend,
    a monitor that only prints) gives the picture and the text alone.
    """
    bundle = dict(widget._repr_mimebundle_(**kwargs) or {}) if widget is not None else {}
    bundle["text/plain"] = text
    bundle["image/png"] = base64.b64encode(png).decode("ascii")
    return bundle
