"""The Streamlit layer (DESIGN section 1, "ui"): cached loaders, components and the page setup.

The only Streamlit-aware package. Pages call `setup_page(title)` first and then draw what
the loaders return; nothing here computes a metric. The pure helpers (fmt, tables, charts,
exports, history) import no Streamlit, so `setup_page` is loaded
lazily.
"""

from typing import Any

__all__ = ["PageContext", "setup_page"]


def __getattr__(name: str) -> Any:
    """Import the Streamlit-aware setup only when a page asks for it."""
    if name in __all__:
        from smarketing.ui import context

        return getattr(context, name)
    raise AttributeError(f"module 'smarketing.ui' has no attribute {name!r}")
