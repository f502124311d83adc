"""frames.normalize: the canonical columns and dtypes, whatever the source gave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smarketing.core import frames
from smarketing.core.frames import NO_SEGMENT, SCHEMAS, CrmData, key_positions, normalize


@pytest.mark.parametrize("dtype", [object, "string"])
def test_empty_text_is_missing_and_other_text_is_kept(dtype) -> None:
    leads = pd.DataFrame({"lead_id": ["a", "b", "c"], "source": ["web", "", None], "segment": ["", "SMB", None]})
    out = normalize("leads", leads.astype({"source": dtype, "segment": dtype}))
    assert out["source"].tolist() == ["web", pd.NA, pd.NA]
    assert out["segment"].tolist() == [NO_SEGMENT, "SMB", NO_SEGMENT]
    assert out["source"].dtype == "string"


def test_text_without_empty_strings_is_unchanged() -> None:
    touches = pd.DataFrame({"touch_id": ["t1", "t2"], "lead_id": ["a", None], "kind": ["call", "email"]})
    out = normalize("touches", touches.astype("string"))
    pd.testing.assert_series_equal(out["lead_id"], pd.Series(["a", pd.NA], dtype="string", name="lead_id"))
    assert out["direction"].tolist() == ["outbound", "outbound"]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtypes", [("string", "string"), (object, object), ("string", object)])
def test_key_positions_is_the_index_lookup(seed: int, dtypes) -> None:
    rng = np.random.default_rng(seed)
    keys = pd.Series(rng.permutation([f"id-{i}" for i in range(300)])[:200], dtype=dtypes[0])
    wanted = rng.choice([*(f"id-{i}" for i in range(300)), None], size=1_000).tolist()
    wanted = pd.Series(wanted, dtype=dtypes[1])
    expected = pd.Index(keys.astype(object)).get_indexer(wanted.astype(object).where(wanted.notna(), None))
    np.testing.assert_array_equal(key_positions(keys, wanted), expected)
    assert key_positions(keys, wanted).dtype == np.intp


def test_touches_and_deals_find_their_leads_with_one_look_at_the_lead_ids(monkeypatch) -> None:
    data = CrmData.of(
        leads=pd.DataFrame({"lead_id": ["a", "b", "c"]}),
        touches=pd.DataFrame({"touch_id": ["t1", "t2", "t3"], "lead_id": ["c", "x", "a"], "kind": "call"}),
        deals=pd.DataFrame({"deal_id": ["d1", "d2"], "lead_id": ["b", None], "status": "open"}),
    )
    asked = []
    distinct = frames.distinct_text_keys
    monkeypatch.setattr(frames, "distinct_text_keys", lambda keys: asked.append(len(keys)) or distinct(keys))
    assert data.touch_lead_rows().tolist() == [2, -1, 0] and data.deal_lead_rows().tolist() == [1, -1]
    assert asked == [3]
    data.leads = data.leads.iloc[::-1].reset_index(drop=True)  # a new leads frame is looked at anew
    assert data.touch_lead_rows().tolist() == [0, -1, 2] and asked == [3, 3]


def test_repeated_or_missing_keys_are_not_distinct() -> None:
    assert frames.distinct_text_keys(pd.Series(["a", "b"], dtype="string"))
    assert not frames.distinct_text_keys(pd.Series(["a", "a"], dtype="string"))
    assert not frames.distinct_text_keys(pd.Series(["a", None], dtype="string"))
    assert not frames.distinct_text_keys(pd.Series(["a", "b"], dtype=object))


def test_key_positions_of_no_keys_or_nothing_wanted() -> None:
    assert key_positions(pd.Series([], dtype="string"), pd.Series(["a"], dtype="string")).tolist() == [-1]
    assert key_positions(pd.Series(["a"], dtype="string"), pd.Series([], dtype="string")).tolist() == []


@pytest.mark.parametrize("table", list(SCHEMAS))
@pytest.mark.parametrize("rows", [0, 3])
def test_a_column_not_carried_is_what_a_column_of_missing_values_becomes(table: str, rows: int) -> None:
    key = next(iter(SCHEMAS[table]))
    carried = pd.DataFrame({key: [f"k{i}" for i in range(rows)]}, index=range(10, 10 + rows))
    spelled = carried.assign(
        **{c: pd.Series([None] * rows, index=carried.index, dtype=object) for c in SCHEMAS[table] if c != key}
    )
    pd.testing.assert_frame_equal(normalize(table, carried), normalize(table, spelled), check_exact=True)
