"""Acceptance columns and exclusion requests in real SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.core.errors import UserError
from smarketing.core.frames import CrmData
from smarketing.store import storage

pytestmark = pytest.mark.integration

T = pd.Timestamp


def _data() -> CrmData:
    leads = pd.DataFrame(
        [
            {"lead_id": "a", "mql_at": T("2026-05-04T13:00Z"), "accepted_at": T("2026-05-04T14:30:00.123456Z")},
            {
                "lead_id": "b",
                "mql_at": T("2026-05-04T13:00Z"),
                "rejected_at": T("2026-05-04T15:00Z"),
                "rejection_reason": "student; =cmd",
            },
        ]
    )
    return CrmData.of(leads=leads)


def test_acceptance_columns_round_trip_and_resaving_changes_nothing(db_engine) -> None:
    storage.save_data(db_engine, _data(), source="test")
    leads = storage.load_data(db_engine).leads.set_index("lead_id")
    assert leads.at["a", "accepted_at"] == T("2026-05-04T14:30:00.123456Z")
    assert (leads.at["b", "rejected_at"], leads.at["b", "rejection_reason"]) == (
        T("2026-05-04T15:00Z"),
        "student; =cmd",
    )
    again = storage.save_data(db_engine, _data(), source="test")
    assert again["leads"] == {"inserted": 0, "updated": 0, "unchanged": 2}


def test_a_request_is_decided_once_and_kept_with_its_audit_trail(db_engine) -> None:
    storage.save_data(db_engine, _data(), source="test")
    first = storage.add_exclusion(db_engine, "a", "all", "routing outage", requested_by="sam", at="2026-05-05T09:00Z")
    second = storage.add_exclusion(db_engine, "b", "acceptance", "test entry", requested_by="sam")
    assert (first["exclusion_id"], second["exclusion_id"]) == ("1", "2")
    decided = storage.decide_exclusion(
        db_engine, "1", approve=True, decided_by="lee", note="confirmed", at="2026-05-06T09:00Z"
    )
    assert (decided["decision"], decided["decided_at"]) == ("approved", "2026-05-06T09:00:00+00:00")
    with pytest.raises(UserError, match="already approved by lee"):
        storage.decide_exclusion(db_engine, "1", approve=False, decided_by="kim")
    with pytest.raises(UserError, match="another approver must decide it"):
        storage.decide_exclusion(db_engine, "2", approve=True, decided_by="sam", forbid_self=True)
    rows = storage.load_exclusions(db_engine)
    assert rows["decision"].tolist() == ["approved", "pending"]
    assert rows.loc[0, "decision_note"] == "confirmed" and rows.loc[0, "requested_at"] == T("2026-05-05T09:00Z")
    data = storage.load_data(db_engine)
    assert len(data.exclusions) == 2  # every request travels with the data to the core
    assert storage.load_exclusions(db_engine, month="2026-05", tz="UTC").shape[0] == 2
    assert storage.load_exclusions(db_engine, month="2026-06", tz="UTC").empty


def test_bad_requests_write_nothing(db_engine) -> None:
    storage.save_data(db_engine, _data(), source="test")
    with pytest.raises(UserError, match="There is no lead 'zz'"):
        storage.add_exclusion(db_engine, "zz", "all", "x", requested_by="sam")
    with pytest.raises(UserError, match="'speed' is not a commitment"):
        storage.add_exclusion(db_engine, "a", "speed", "x", requested_by="sam")
    with pytest.raises(UserError, match="needs a reason"):
        storage.add_exclusion(db_engine, "a", "all", "  ", requested_by="sam")
    assert storage.load_exclusions(db_engine).empty
