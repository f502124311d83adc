"""frames.normalize: the canonical columns and dtypes, whatever the source gave."""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.core.frames import NO_SEGMENT, normalize


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
