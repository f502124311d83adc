"""The lead filter: URL round trip, which leads it keeps, and the counts a page links to the ledger."""

from __future__ import annotations

import pandas as pd

from smarketing.core.frames import CrmData
from smarketing.core.lead_filter import (
    LeadFilter,
    choices,
    count_filter,
    describe,
    drill_counts,
    filter_leads,
    from_params,
    same_leads,
    scoped_data,
    scoped_marketing,
)

OWNERS = pd.DataFrame({"owner_id": ["o1", "o2", "o3"], "name": ["Ana", "Ben", "Cy"], "team": ["East", "East", "West"]})
T = pd.Timestamp("2026-03-02T10:00Z")
LEDGER = pd.DataFrame(
    {
        "lead_id": ["L1", "L2", "L3", "L4", "L5"],
        "owner_id": ["o1", "o2", "o3", None, "o1"],
        "segment": ["SMB", "ENT", "SMB", "SMB", "ENT"],
        "source": ["Webinar", "Ads", "Ads", "Webinar", None],
        "first_touch_status": ["met", "breached", "breached", "pending", "breached"],
        "attempts_status": ["met", "pending", "breached", "pending", "breached"],
        "first_touch_at": [T, None, T, None, None],
    }
)


def _ids(lead_filter: LeadFilter) -> list[str]:
    """Lead ids the filter keeps."""
    return list(filter_leads(LEDGER, OWNERS, lead_filter)["lead_id"])


def test_url_round_trip_keeps_every_field() -> None:
    wanted = LeadFilter("East", "o1", "SMB", "Webinar", ("breached", "pending"), ("met",), True)
    assert from_params(wanted.params()) == wanted
    assert wanted.params()["first_touch"] == "breached,pending"


def test_empty_filter_keeps_every_lead_and_adds_no_params() -> None:
    assert not LeadFilter().active
    assert LeadFilter().params() == {}
    assert _ids(LeadFilter()) == ["L1", "L2", "L3", "L4", "L5"]


def test_unknown_statuses_in_the_url_are_ignored() -> None:
    assert from_params({"first_touch": "Breached, lost", "untouched": "no"}) == LeadFilter(first_touch=("breached",))


def test_team_is_the_owners_team() -> None:
    assert _ids(LeadFilter(team="East")) == ["L1", "L2", "L5"]
    assert _ids(LeadFilter(team="West")) == ["L3"]


def test_each_scope_field_narrows() -> None:
    assert _ids(LeadFilter(owner="o1")) == ["L1", "L5"]
    assert _ids(LeadFilter(segment="SMB")) == ["L1", "L3", "L4"]
    assert _ids(LeadFilter(source="Ads")) == ["L2", "L3"]
    assert _ids(LeadFilter(team="East", segment="ENT")) == ["L2", "L5"]


def test_statuses_and_untouched_narrow() -> None:
    assert _ids(LeadFilter(first_touch=("breached",))) == ["L2", "L3", "L5"]
    assert _ids(LeadFilter(first_touch=("breached",), untouched=True)) == ["L2", "L5"]
    assert _ids(LeadFilter(attempts=("pending",))) == ["L2", "L4"]


def test_a_team_that_matches_nothing_keeps_nothing() -> None:
    assert _ids(LeadFilter(team="Gone")) == []


def test_scope_drops_the_statuses() -> None:
    full = LeadFilter(team="East", first_touch=("met",), untouched=True)
    assert full.scope() == LeadFilter(team="East")
    assert full.scoped and not LeadFilter(first_touch=("met",)).scoped


def test_each_drill_count_is_the_number_of_leads_its_filter_opens() -> None:
    scope = LeadFilter(team="East")
    leads = filter_leads(LEDGER, OWNERS, scope)
    counts = drill_counts(leads)
    assert counts == {
        "first_touch_breached": 2,
        "first_touch_pending": 0,
        "overdue": 2,
        "attempts_breached": 1,
        "attempts_pending": 1,
    }
    for name, n in counts.items():
        assert len(filter_leads(LEDGER, OWNERS, count_filter(name, scope))) == n, name


def test_same_leads_keeps_the_frames_order() -> None:
    worklist = pd.DataFrame({"lead_id": ["L5", "L2", "L4"], "overdue_hours": [9.0, 3.0, 0.0]})
    kept = same_leads(worklist, filter_leads(LEDGER, OWNERS, LeadFilter(team="East")))
    assert list(kept["lead_id"]) == ["L5", "L2"]


def test_describe_names_the_rep() -> None:
    text = describe(LeadFilter(team="East", owner="o1", segment="SMB", attempts=("breached",)), {"o1": "Ana"})
    assert text == "team East · rep Ana · segment SMB · attempts breached"
    assert describe(LeadFilter(), {}) == ""


def test_choices_come_from_the_data() -> None:
    found = choices(LEDGER, OWNERS)
    assert found["team"] == ["East", "West"]
    assert found["owner"] == ["o1", "o2", "o3"]
    assert found["source"] == ["Ads", "Webinar"]


def _data() -> CrmData:
    """Five leads (LEDGER's owners, segments, sources), a touch each for L1 and L3, a deal for L2."""
    leads = LEDGER[["lead_id", "owner_id", "segment", "source"]].assign(mql_at=T)
    touches = pd.DataFrame({"touch_id": ["t1", "t3"], "lead_id": ["L1", "L3"], "kind": "call", "occurred_at": T})
    deals = pd.DataFrame({"deal_id": ["d2"], "lead_id": ["L2"], "status": ["open"]})
    return CrmData.of(owners=OWNERS, leads=leads, touches=touches, deals=deals)


def test_scoped_data_keeps_the_filtered_leads_and_their_rows() -> None:
    data = scoped_data(_data(), LeadFilter(team="East", segment="ENT"))
    assert list(data.leads["lead_id"]) == ["L2", "L5"]
    assert list(data.deals["deal_id"]) == ["d2"] and data.touches.empty
    assert data.has_touches  # the source has touches, these leads just have none
    assert list(data.owners["owner_id"]) == ["o1", "o2", "o3"]


def test_scoped_data_without_a_scope_is_the_data() -> None:
    data = _data()
    assert scoped_data(data, LeadFilter(first_touch=("breached",))) is data


MARKETING = {
    "mqls": 10,
    "quota": 20,
    "status": "behind",
    "projected": 15.0,
    "by_source": [{"source": "Ads", "mqls": 10}],
    "by_segment": [
        {"segment": "SMB", "mqls": 7, "quota": 12, "status": "on_track", "projected": 12.5},
        {"segment": "ENT", "mqls": 3, "quota": 8, "status": "behind", "projected": 4.0},
        {"segment": "MID", "mqls": 0, "quota": 5, "status": "behind", "projected": 0.0},
    ],
}


def test_one_segment_is_measured_against_its_own_quota() -> None:
    out = scoped_marketing(MARKETING, LeadFilter(segment="ENT"))
    assert (out["mqls"], out["quota"], out["status"], out["projected"]) == (3, 8, "behind", 4.0)
    assert [s["segment"] for s in out["by_segment"]] == ["ENT"]


def test_a_team_or_source_has_no_quota() -> None:
    out = scoped_marketing(MARKETING, LeadFilter(team="East"))
    assert out["mqls"] == 10 and out["quota"] is None and out["status"] is None and out["projected"] is None
    assert [(s["segment"], s["quota"]) for s in out["by_segment"]] == [("SMB", None), ("ENT", None)]
    assert scoped_marketing(MARKETING, LeadFilter(segment="SMB", source="Ads"))["quota"] is None


def test_no_scope_keeps_the_marketing_part() -> None:
    assert scoped_marketing(MARKETING, LeadFilter()) is MARKETING
