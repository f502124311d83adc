"""The import progress ticker: stages own a share of the whole, fractions never go back, silence without a listener."""

from __future__ import annotations

from smarketing.sources.progress import Ticker


def test_a_stage_maps_its_own_fraction_into_its_share() -> None:
    calls: list[tuple[float, str]] = []
    ticker = Ticker(lambda f, label: calls.append((f, label)))
    reading = ticker.stage(0.0, 0.5)
    reading(0.5, "half read")
    saving = ticker.stage(0.5, 0.9)
    saving(0.5, "half saved")
    ticker(1.0, "done")
    assert calls == [(0.25, "half read"), (0.7, "half saved"), (1.0, "done")]


def test_fractions_never_go_back_and_stay_within_one() -> None:
    calls: list[float] = []
    ticker = Ticker(lambda f, _label: calls.append(f))
    ticker(0.6, "a")
    ticker(0.4, "b")
    ticker.stage(0.0, 0.5)(2.0, "c")
    ticker(1.7, "d")
    assert calls == [0.6, 0.6, 0.6, 1.0]


def test_no_listener_is_silent() -> None:
    Ticker(None).stage(0.1, 0.2)(0.5, "nobody hears this")
