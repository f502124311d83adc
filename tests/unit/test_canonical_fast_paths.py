"""The import's fast paths give exactly what the general paths give: instants as CRM exports write
them read from their bytes, the Arrow regex for offsets, Arrow's is_in for known ids, and the
vectorised text of stored instants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smarketing.core.consistency import unknown_references
from smarketing.core.frames import CrmData, among, normalize
from smarketing.sources import canonical
from smarketing.store import storage

TRICKY = [
    "2026-01-02T03:04:05.123456+00:00",
    "2026-01-02 03:04:05.123456+00:00",
    "2026-01-02T03:04:05.123456-00:00",
    "2026-01-02T03:04:05.123456+05:30",
    "2026-01-02T03:04:05.123456-23:59",
    "2026-01-02T03:04:05.123456+23:59",
    "2026-01-02T03:04:05.123456+24:00",
    "2026-01-02T03:04:05.123456+05:60",
    "2026-01-02T03:04:05.123456+0530",
    "2026-01-02T03:04:05.123456Z",
    "2026-01-02T03:04:05Z",
    "2026-01-02T03:04:05+01:00",
    "2026-01-02T03:04+01:00",
    "2026-01-02T03:04:05.1234567+00:00",
    "2026-01-02T03:04:05.12345+00:000",
    "2026-01-02T03:04:05,123456+00:00",
    "2026-01-02t03:04:05.123456+00:00",
    "2026-01-02T03:04:05.123456z",
    "2026-03-08T02:30:00",  # a local time that daylight saving skips in New York
    "2026-11-01T01:30:00.000000",  # a local time that happens twice in New York
    "2026-03-29T02:30:00",  # skipped in Berlin
    "2026-01-02",
    "2024-02-29T12:00:00.000000+00:00",
    "2026-02-29T12:00:00.000000+00:00",
    "2026-04-31T12:00:00.000000+00:00",
    "2026-00-10T12:00:00.000000+00:00",
    "2026-13-10T12:00:00.000000+00:00",
    "2026-01-00T12:00:00.000000+00:00",
    "2026-01-02T24:00:00.000000+00:00",
    "2026-01-02T23:60:00.000000+00:00",
    "2026-01-02T23:59:60.000000+00:00",
    "1900-01-01T00:30:00.000000+01:00",  # 1899 in UTC: outside
    "1900-01-01T00:00:00.000000+00:00",
    "1901-01-01T00:00:00.000000+00:00",
    "2198-12-31T23:59:59.999999-23:59",
    "2199-12-31T23:59:59.999999+00:00",
    "2200-01-01T00:00:00.000000+00:00",
    "1899-12-31T23:59:59.999999+00:00",
    "0000-01-01T00:00:00.000000+00:00",
    "٢٠٢٦-01-02T03:04:05.123456+00:00",  # Arabic-Indic digits
    "2026-01-02T03:04:05.12345€+00:00",
    "2026/01/02T03:04:05.123456+00:00",
    "2026-01-02X03:04:05.123456+00:00",
    "abcdefghijklmnopqrstuvwxyz+05:00",
    "  2026-01-02T03:04:05.123456+00:00  ",
    "",
    "   ",
    None,
    "not a date",
    "yesterday",
]


def _general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        canonical, "read_exported", lambda text: pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    )


def _exported_text(n: int, seed: int) -> list[str]:
    """Instants of every year 1890-2210 with offsets up to ±23:59, as exports write them."""
    rng = np.random.default_rng(seed)
    stamps = pd.to_datetime(rng.integers(-2.5e18, 7.6e18, n), utc=True)
    minutes = rng.integers(-23 * 60 - 59, 23 * 60 + 60, n)
    local = stamps + pd.to_timedelta(minutes, unit="min")
    signs = np.where(minutes < 0, "-", "+")
    return [
        f"{t.strftime('%Y-%m-%d')}{'T' if i % 3 else ' '}{t.strftime('%H:%M:%S.%f')}{s}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
        for i, (t, s, m) in enumerate(zip(local, signs, minutes, strict=True))
    ]


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/Berlin", "UTC"])
def test_exported_instants_read_as_the_general_path_reads_them(monkeypatch, tz):
    cells = pd.Series(TRICKY + _exported_text(20_000, seed=11), dtype="string")
    cells.index = cells.index * 3 + 7  # labels that are not positions, as a later chunk has
    fast = canonical.read_instants(cells, tz)
    assert canonical.read_exported(cells.str.strip()).notna().sum() > 18_000  # the fast path did the work
    _general_path(monkeypatch)
    general = canonical.read_instants(cells, tz)
    for mine, theirs in zip(fast, general, strict=True):
        pd.testing.assert_series_equal(mine, theirs)


def test_exported_instants_in_several_arrow_chunks_and_with_an_explicit_format(monkeypatch):
    chunks = [pd.Series(_exported_text(500, seed=s), dtype="string") for s in range(4)]
    cells = pd.concat([*chunks, pd.Series(TRICKY, dtype="string")], ignore_index=True)
    formats = ["ISO8601", "%d/%m/%Y %H:%M"]
    fast = canonical.read_instants(cells, "Europe/Berlin", formats)
    later = canonical.read_instants(cells, "Europe/Berlin", ["%d/%m/%Y %H:%M", "ISO8601"])
    _general_path(monkeypatch)
    for mine, theirs in zip(fast, canonical.read_instants(cells, "Europe/Berlin", formats), strict=True):
        pd.testing.assert_series_equal(mine, theirs)
    for mine, theirs in zip(
        later, canonical.read_instants(cells, "Europe/Berlin", ["%d/%m/%Y %H:%M", "ISO8601"]), strict=True
    ):
        pd.testing.assert_series_equal(mine, theirs)


def test_bad_and_outside_instants_get_the_same_problems(monkeypatch):
    good = _exported_text(50, seed=3)
    raw = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(len(TRICKY) + len(good))],
            "mql_at": [v if v is not None else "" for v in TRICKY] + good,
            "created_at": good + [v if v is not None else "" for v in TRICKY],
        }
    )
    fast_frame, fast_problems = canonical.parse_table("leads", raw, tz="America/New_York", label="leads.csv")
    _general_path(monkeypatch)
    frame, problems = canonical.parse_table("leads", raw, tz="America/New_York", label="leads.csv")
    assert fast_problems == problems
    assert any("is outside the years 1900 to 2199" in p for p in problems)
    assert any("'2026-04-31T12:00:00.000000+00:00' is not a date and time" in p for p in problems)
    pd.testing.assert_frame_equal(fast_frame, frame)
    clean = raw.iloc[len(TRICKY) :].reset_index(drop=True)
    clean["mql_at"] = clean["created_at"].where(clean["created_at"].str.startswith("2"), "")
    _, problems = canonical.parse_table("leads", clean, tz="UTC", label="leads.csv")
    monkeypatch.undo()
    assert canonical.parse_table("leads", clean, tz="UTC", label="leads.csv")[1] == problems


def test_offsets_are_recognised_as_the_python_regex_recognises_them():
    cells = pd.Series(TRICKY + _exported_text(200, seed=5) + ["2026-01-02T03:04:05+05", "2026-01-02 3:04 -0800"])
    text = cells.astype("string").str.strip()
    expected = text.str.contains(canonical._OFFSET, na=False).fillna(False).astype(bool)
    pd.testing.assert_series_equal(canonical.has_offset(text), expected, check_names=False)


def test_among_is_isin_for_text_ids():
    values = pd.Series(["a", "b", None, "", "ü", "a ", "10"], dtype="string")
    known = pd.Series(["a", "ü", None, "10", "zz"], dtype="string")
    expected = (values.isin(known.dropna()) & values.notna()).fillna(False).astype(bool).to_numpy()
    assert among(values, known).tolist() == expected.tolist()
    assert among(values.iloc[:0], known).tolist() == []


def test_unknown_references_name_the_same_ids():
    owners = normalize("owners", pd.DataFrame({"owner_id": ["o1", "o2"]}))
    leads = normalize(
        "leads", pd.DataFrame({"lead_id": ["l1", "l2", "l3"], "owner_id": ["o1", "o9", None], "mql_at": [None] * 3})
    )
    touches = normalize(
        "touches",
        pd.DataFrame(
            {
                "touch_id": ["t1", "t2", "t3", "t4"],
                "lead_id": ["l1", "l7", "l8", "l7"],
                "kind": ["call"] * 4,
                "occurred_at": pd.to_datetime(["2026-01-01"] * 4, utc=True),
            }
        ),
    )
    found = unknown_references(CrmData(owners=owners, leads=leads, touches=touches), lambda table, ids: {"l8"})
    assert [f.text for f in found] == [
        "2 touches name a lead_id that no lead has (for example 'l7')",
        "1 lead names an owner_id that no owner has (for example 'o9')",
    ]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_stored_instants_are_the_text_they_were(dialect):
    values = pd.Series(pd.to_datetime(_exported_text(300, seed=9), format="ISO8601", utc=True).floor("us"))
    values[::7] = pd.NaT
    naive = values.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    text = np.char.replace(np.datetime_as_string(naive, unit="us"), "T", " ")
    if dialect != "sqlite":
        text = np.char.add(text, "+00")
    expected = [None if pd.isna(v) else t for v, t in zip(values, text.tolist(), strict=True)]
    assert storage._db_values(values, "instant", dialect) == expected
    assert storage._db_values(values.iloc[:0], "instant", dialect) == []
    assert storage._db_values(pd.Series([pd.NaT] * 2, dtype="datetime64[ns, UTC]"), "instant", dialect) == [None] * 2
