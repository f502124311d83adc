"""Hand-checked cases of how HubSpot Lead objects decide for their contacts (mapping.lead_object_decisions)."""

from __future__ import annotations

import pandas as pd

from smarketing.sources.hubspot.client import Record
from smarketing.sources.hubspot.mapping import LeadStageRule, lead_object_decisions

RULE = LeadStageRule(
    frozenset({"ATTEMPTING-STAGE-ID", "CONNECTED-STAGE-ID", "QUALIFIED-STAGE-ID"}),
    frozenset({"UNQUALIFIED-STAGE-ID"}),
    "hs_lead_disqualification_reason",
)
T = "2026-05-04T{}:00:00.000Z"


def lead(lead_id: str, contacts: list[str], stages: list[tuple[str, str]], reason: str | None = None) -> Record:
    """A lead record; stages as (stage, hour) pairs, listed newest first as HubSpot does."""
    history = [{"value": s, "timestamp": T.format(h), "sourceType": "CRM_UI"} for s, h in reversed(stages)]
    return Record(
        id=lead_id,
        properties={"hs_pipeline_stage": stages[-1][0], "hs_lead_disqualification_reason": reason},
        associations={"contacts": contacts},
        history={"hs_pipeline_stage": history},
    )


def at(hour: str) -> pd.Timestamp:
    return pd.Timestamp(T.format(hour))


def ms(hour: str) -> int:
    return at(hour).value // 1_000_000


def decide(records, stored, warnings=None) -> dict[str, tuple]:
    frame = lead_object_decisions(records, RULE, stored, warnings)
    return {
        r.lead_id: (
            None if pd.isna(r.accepted_at) else r.accepted_at,
            None if pd.isna(r.rejected_at) else r.rejected_at,
            None if pd.isna(r.rejection_reason) else r.rejection_reason,
        )
        for r in frame.itertuples()
    }


def test_first_entry_into_each_set_and_the_reason_only_when_rejected():
    records = [
        lead("1", ["c1"], [("new-stage-id", "09"), ("attempting-stage-id", "10"), ("qualified-stage-id", "11")]),
        lead("2", ["c2"], [("new-stage-id", "09"), ("unqualified-stage-id", "12")], reason="student"),
        lead("3", ["c3"], [("connected-stage-id", "10"), ("unqualified-stage-id", "13")], reason="competitor"),
        lead("4", ["c4"], [("new-stage-id", "09")], reason="left over"),
        lead("5", ["c5"], [("connected-stage-id", "14")], reason="not rejected"),
    ]
    stored = {c: None for c in ("c1", "c2", "c3", "c4", "c5")}
    assert decide(records, stored) == {
        "c1": (at("10"), None, None),
        "c2": (None, at("12"), "student"),
        "c3": (at("10"), at("13"), "competitor"),  # moved from accepted to rejected: both stamps
        "c5": (at("14"), None, None),  # a reason without a rejection is not kept
    }  # c4 is undecided: nothing written


def test_the_lead_decided_first_gives_all_three_values_whatever_the_order():
    first = lead("20", ["c1"], [("new-stage-id", "08"), ("attempting-stage-id", "10")])
    later = lead("10", ["c1"], [("new-stage-id", "11"), ("unqualified-stage-id", "12")], reason="no budget")
    for records in ([first, later], [later, first]):
        assert decide(records, {"c1": None}) == {"c1": (at("10"), None, None)}


def test_a_stored_earlier_decision_stands_and_a_stored_later_one_is_replaced():
    later = lead("10", ["c1"], [("new-stage-id", "11"), ("unqualified-stage-id", "12")], reason="no budget")
    assert decide([later], {"c1": ms("10")}) == {}  # another lead decided at 10:00
    assert decide([later], {"c1": ms("12")}) == {"c1": (None, at("12"), "no budget")}  # the same lead, re-read
    assert decide([later], {"c1": ms("15")}) == {"c1": (None, at("12"), "no budget")}


def test_leads_without_a_stored_contact_are_skipped_and_counted():
    records = [
        lead("1", ["gone"], [("unqualified-stage-id", "12")], reason="spam"),
        lead("2", [], [("connected-stage-id", "10")]),
        lead("3", ["gone", "c1"], [("connected-stage-id", "10")]),  # decides for its stored contact
        lead("4", ["gone"], [("new-stage-id", "09")]),
    ]
    warnings: list[str] = []
    skipped: list[str] = []
    frame = lead_object_decisions(records, RULE, {"c1": None}, warnings, skipped)
    assert frame["lead_id"].tolist() == ["c1"] and frame["accepted_at"].tolist() == [at("10")]
    assert warnings == [
        "3 HubSpot leads have no associated contact among the synced leads and were skipped (retried at the next syncs)"
    ]
    assert skipped == ["1", "2", "4"]
    warnings = []
    lead_object_decisions(records[:1], RULE, {}, warnings)
    assert warnings == [
        "1 HubSpot lead has no associated contact among the synced leads and was skipped (retried at the next syncs)"
    ]


def test_archived_leads_and_unreadable_history_decide_nothing():
    archived = lead("1", ["c1"], [("connected-stage-id", "10")])
    archived.archived = True
    bad = lead("2", ["c2"], [("connected-stage-id", "10")])
    bad.history["hs_pipeline_stage"][0]["timestamp"] = "not a time"
    assert decide([archived, bad], {"c1": None, "c2": None}) == {}
