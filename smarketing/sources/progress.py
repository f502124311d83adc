"""Progress of a long import: a plain `progress(fraction, label)` callable (no Streamlit here), fed
with fractions that only go forward and end at 1.0, each stage owning a share of the whole."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


class Ticker:
    """Calls `progress` (None: nobody listens) with fractions in [0, 1] that never go back."""

    def __init__(self, progress: Progress | None, low: float = 0.0, high: float = 1.0, parent: Ticker | None = None):
        self.progress = progress
        self.low, self.high = low, high
        self.parent = parent
        self.last = 0.0

    def __call__(self, fraction: float, label: str) -> None:
        """Report `fraction` of this stage done."""
        if self.parent is not None:
            self.parent(self.low + (self.high - self.low) * min(max(fraction, 0.0), 1.0), label)
            return
        if self.progress is None:
            return
        self.last = min(1.0, max(self.last, fraction))
        self.progress(self.last, label)

    def stage(self, low: float, high: float) -> Ticker:
        """A sub-stage that owns [low, high] of this one."""
        return Ticker(None, low, high, parent=self)
