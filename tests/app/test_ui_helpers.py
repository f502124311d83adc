"""The pure helpers behind the pages: touch verdicts agree with the core, exports are inert, history."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest
from app_helpers import MONTH, NOW
from openpyxl import load_workbook

from smarketing.core.recalc import reverse_funnel
from smarketing.core.sales import lead_ledger, qualifying_touches, touch_verdicts
from smarketing.sources.demo import demo_terms, generate_demo
from smarketing.ui.exports import csv_bytes, frame_xlsx, ledger_csv, scorecard_csv, scorecard_xlsx
from smarketing.ui.history import consecutive_misses

pytestmark = pytest.mark.app


@pytest.fixture(scope="module")
def demo():
    return generate_demo(now=NOW, months=3)


def test_verdicts_agree_with_qualifying_touches(demo) -> None:
    terms = demo_terms()
    as_of = NOW - pd.Timedelta(days=2)  # some touches are after as_of
    ledger = lead_ledger(demo, terms, as_of)
    mql = demo.leads.set_index("lead_id")["mql_at"]
    counted = set(qualifying_touches(demo.touches, mql, as_of).index)
    checked = 0
    for _, lead in ledger.sample(150, random_state=1).iterrows():
        verdicts = touch_verdicts(demo.touches, lead, terms, as_of)
        own = demo.touches.loc[demo.touches["lead_id"] == lead["lead_id"]]
        expected = set(own.index) & counted
        assert int(verdicts["counts"].sum()) == len(expected)
        assert int(verdicts["attempt"].notna().sum()) == lead["attempts"]
        checked += len(verdicts)
    assert checked > 300


def test_verdicts_name_every_reason() -> None:
    lead = pd.Series(
        {
            "lead_id": "L",
            "mql_at": pd.Timestamp("2026-03-02T14:00Z"),
            "attempts_deadline": pd.Timestamp("2026-03-16T21:00Z"),
        }
    )
    at = [
        pd.Timestamp(t)
        for t in (
            "2026-03-02T13:00Z",
            "2026-03-02T15:00Z",
            "2026-03-02T16:00Z",
            "2026-03-02T17:00Z",
            "2026-03-02T18:00Z",
            "2026-03-20T15:00Z",
        )
    ]
    touches = pd.DataFrame(
        {
            "touch_id": list("abcdef"),
            "lead_id": ["L"] * 6,
            "owner_id": ["o"] * 6,
            "kind": ["call", "note", "email", "call", "email", "call"],
            "occurred_at": at,
            "automated": [False, False, True, False, False, False],
            "direction": ["outbound", "outbound", "outbound", "inbound", "outbound", "outbound"],
        }
    )
    verdicts = touch_verdicts(touches, lead, demo_terms(), pd.Timestamp("2026-03-19T00:00Z"))
    assert list(verdicts["why"]) == [
        "before MQL",
        "not a call/email/meeting (note)",
        "automated",
        "inbound",
        "first touch; attempt 1 of 5",
        "after the time shown",
    ]
    assert list(verdicts["counts"]) == [False, False, False, False, True, False]


def test_csv_and_excel_exports_neutralise_formulas() -> None:
    evil = '=HYPERLINK("http://x","y")'
    text = csv_bytes(["a"], [[evil], ["+1"], ["ok"]]).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1" in text
    book = load_workbook(io.BytesIO(frame_xlsx({"S": pd.DataFrame({"a": [evil, "-2", 3.5]})})))
    values = [c.value for c in book["S"]["A"]][1:]
    assert values == ["'" + evil, "'-2", 3.5]
    assert all(c.data_type != "f" for c in book["S"]["A"])


def test_scorecard_and_ledger_exports(demo) -> None:
    from smarketing.core.scorecard import build_scorecard

    terms = demo_terms()
    ledger = lead_ledger(demo, terms, NOW, MONTH)
    card = build_scorecard(demo, terms, MONTH, NOW, ledger=ledger)
    assert scorecard_csv(card).decode("utf-8-sig").startswith("side,measure,value")
    book = load_workbook(io.BytesIO(scorecard_xlsx(card)))
    assert book.sheetnames == ["Scorecard", "Segments", "Sources", "Reps"]
    rows = ledger_csv(ledger, terms.timezone).decode("utf-8-sig").splitlines()
    assert len(rows) == len(ledger) + 1 and rows[0].startswith("lead_id,owner_id,segment,source")


@pytest.mark.parametrize(
    "statuses, streak",
    [
        (["met", "missed", "missed"], 2),
        (["missed", "missed", "on_track"], 2),
        (["missed", "met", "behind"], 0),
        ([], 0),
        (["missed"] * 3 + [None], 3),
    ],
)
def test_consecutive_misses(statuses, streak) -> None:
    assert consecutive_misses(statuses) == streak


def test_reverse_funnel() -> None:
    result = reverse_funnel(1_500_000, 0.6, 30_000, 0.05)
    assert result["marketing_revenue"] == 900_000
    assert math.isclose(result["customers_needed"], 30)
    assert result["mqls_needed"] == 600
    assert reverse_funnel(1, 1, 0, 0.1)["mqls_needed"] is None


def test_the_prefetch_thread_logs_no_missing_context_warning(caplog: pytest.LogCaptureFixture) -> None:
    import threading

    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from smarketing.ui.loaders import PREFETCH_THREAD

    def run_in(name: str) -> None:
        thread = threading.Thread(target=get_script_run_ctx, name=name)
        thread.start()
        thread.join()

    with caplog.at_level("WARNING"):
        run_in(PREFETCH_THREAD)
        assert not [r for r in caplog.records if "ScriptRunContext" in r.getMessage()]
        run_in("some-other-thread")  # the filter is for the prefetch thread only
        assert [r for r in caplog.records if "some-other-thread" in r.getMessage()]


def test_tables_show_a_dash_for_missing_text_and_keep_numbers() -> None:
    from smarketing.ui.components import without_missing_text

    frame = pd.DataFrame({"Team": ["East", None], "Source": pd.array([None, "web"], dtype="string"), "n": [1.0, None]})
    shown = without_missing_text(frame)
    assert list(shown["Team"]) == ["East", "—"] and list(shown["Source"]) == ["—", "web"]
    assert shown["n"].isna().tolist() == [False, True]  # numbers stay numbers (formatted by the column)


def _sections_page() -> None:
    import streamlit as st

    from smarketing.ui.components import in_order

    st.title("Headline")
    in_order(
        ("the first part", lambda: st.markdown("first")),
        ("a part with nothing to show", lambda: None),
        ("the second part", lambda: st.markdown("second")),
    )


def test_in_order_draws_each_section_in_its_placeholders_place() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_sections_page).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["first", "second"]
    assert not [c.value for c in at.caption if "Loading" in c.value]  # every placeholder was replaced


def test_prefetch_calls_a_loader_once_per_arguments_in_the_background(monkeypatch, caplog) -> None:
    import threading

    from smarketing.ui import loaders

    monkeypatch.setattr(loaders.st, "get_option", lambda name: False if name == "global.appTest" else None)
    monkeypatch.setattr(loaders, "_PREFETCHED", set())
    calls: list[tuple] = []
    done = threading.Event()

    def proposal(*args: object) -> None:
        calls.append((threading.current_thread().name, *args))
        done.set()
        if args[-1] == "bad":
            raise RuntimeError("no data")

    loaders.prefetch(proposal, "url", "2026-11")
    assert done.wait(10)
    loaders.prefetch(proposal, "url", "2026-11")  # the same arguments: not again
    done.clear()
    with caplog.at_level("WARNING"):
        loaders.prefetch(proposal, "url", "bad")
        assert done.wait(10)
        for thread in threading.enumerate():
            if thread.name == loaders.PREFETCH_THREAD:
                thread.join(10)
    assert calls == [(loaders.PREFETCH_THREAD, "url", "2026-11"), (loaders.PREFETCH_THREAD, "url", "bad")]
    assert any("prefetching" in r.getMessage() and "proposal" in r.getMessage() for r in caplog.records)
