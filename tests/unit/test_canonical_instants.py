"""Instants in canonical files: a cell is read the same whatever the cells beside it hold."""

from __future__ import annotations

import pandas as pd

from smarketing.sources.canonical import parse_instants

NY = "America/New_York"


def test_an_offset_the_rule_does_not_accept_beside_plain_local_times_is_read_not_a_crash() -> None:
    odd, plain = "2026-01-02T03:04:05.1234567+00:0", "2026-01-02 03:04:05"
    together, bad = parse_instants(pd.Series([odd, plain, "", "not a time"]), NY)
    alone = [parse_instants(pd.Series([cell]), NY)[0].iloc[0] for cell in (odd, plain)]
    assert together.iloc[:2].tolist() == alone
    assert together.iloc[1] == pd.Timestamp("2026-01-02 08:04:05", tz="UTC")  # 03:04:05 in New York
    assert pd.isna(together.iloc[2]) and pd.isna(together.iloc[3])
    assert bad.tolist() == [False, False, False, True]
