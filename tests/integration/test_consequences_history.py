"""Consequences through the command line on six hand-checked months (SQLite and PostgreSQL).

UTC, Mon-Fri 09:00-17:00, quota 2 MQLs, first touch within 4 business hours (target 50 %), one
attempt within a business day (target 50 %); MQLs on the first Monday of each month at 10:00 and
10:30, a call an hour later where marked. Weights mql_quota 0.5, first_touch 0.3, attempts 0.2;
critical at 2 misses in 6 months; 1 credit per miss; 2 met months in a row earn one back.

| month | MQLs (touched) | quota  | first touch, attempts | marketing | sales | overall                 |
|-------|----------------|--------|-----------------------|-----------|-------|-------------------------|
| Jan   | 2 (2)          | met    | met, met              | 1         | 1     | 1                       |
| Feb   | 1 (1)          | missed | met, met              | 1/2       | 1     | (.25 + .3 + .2)/1 = .75 |
| Mar   | 2 (0)          | met    | missed (0 %), missed  | 1         | 0     | .5/1 = .5               |
| Apr   | 2 (1)          | met    | met (50 %), met       | 1         | 1     | 1                       |
| May   | 1 (1)          | missed | met, met              | 1/2       | 1     | .75                     |
| Jun   | 2 (2)          | met    | met, met              | 1         | 1     | 1                       |

Credits, June: quota Jan met, Feb +1, Mar+Apr −1 → 0, May +1, Jun (run of 1) → 1; strikes 2 → critical.
First touch and attempts: Jan+Feb (a run at 0 cancels nothing), Mar +1, Apr+May −1 → 0, Jun → 0; strikes 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smarketing import api
from smarketing.cli import main
from smarketing.store import storage

pytestmark = pytest.mark.integration

AS_OF = "2026-07-15T12:00:00Z"
FIRST_MONDAYS = {"01": "05", "02": "02", "03": "02", "04": "06", "05": "04", "06": "01"}
# month: touched flag per MQL (10:00, 10:30)
HISTORY = {
    "01": (True, True),
    "02": (True,),
    "03": (False, False),
    "04": (True, False),
    "05": (True,),
    "06": (True, True),
}
TERMS = """\
timezone = "UTC"

[calendar]
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
hours = ["09:00", "17:00"]

[marketing]
mql_quota = 2

[sales]
first_touch_hours = 4
first_touch_target = 0.5
min_attempts = 1
attempt_window_days = 1
attempts_target = 0.5

[consequences]
weights = { mql_quota = 0.5, first_touch = 0.3, attempts = 0.2 }
critical_misses = 2
critical_window_months = 6
credit_per_miss = 1
earn_back_months = 2
"""
EXPECTED_TREND = [
    {"month": "2026-01", "marketing": 1.0, "sales": 1.0, "overall": 1.0},
    {"month": "2026-02", "marketing": 0.5, "sales": 1.0, "overall": 0.75},
    {"month": "2026-03", "marketing": 1.0, "sales": 0.0, "overall": 0.5},
    {"month": "2026-04", "marketing": 1.0, "sales": 1.0, "overall": 1.0},
    {"month": "2026-05", "marketing": 0.5, "sales": 1.0, "overall": 0.75},
    {"month": "2026-06", "marketing": 1.0, "sales": 1.0, "overall": 1.0},
]
EXPECTED_JUNE = [
    {
        "commitment": "mql_quota",
        "side": "marketing",
        "status": "met",
        "score": 1.0,
        "weight": 0.5,
        "strikes": 2,
        "critical": True,
        "credits": 1,
        "credit_history_text": "missed in February: +1; met March and April: −1; missed in May: +1",
    },
    *[
        {
            "commitment": name,
            "side": "sales",
            "status": "met",
            "score": 1.0,
            "weight": weight,
            "strikes": 1,
            "critical": False,
            "credits": 0,
            "credit_history_text": "missed in March: +1; met April and May: −1",
        }
        for name, weight in (("first_touch", 0.3), ("attempts", 0.2))
    ],
]
SHOWN_KEYS = ["commitment", "side", "status", "score", "weight", "strikes", "critical", "credits"]


def write_history(folder: Path) -> Path:
    """The six months as canonical CSV files and terms.toml."""
    folder.mkdir()
    leads, touches = ["lead_id,created_at,mql_at,owner_id,segment"], ["touch_id,lead_id,owner_id,kind,occurred_at"]
    for month, touched in HISTORY.items():
        day = f"2026-{month}-{FIRST_MONDAYS[month]}"
        for i, (minute, was_touched) in enumerate(zip(("00", "30"), touched)):
            lead = f"L{month}{i}"
            leads.append(f"{lead},{day}T09:00:00Z,{day}T10:{minute}:00Z,o1,")
            if was_touched:
                touches.append(f"T{lead},{lead},o1,call,{day}T11:{minute}:00Z")
    (folder / "owners.csv").write_text("owner_id,name,email,team,active\no1,Avery Stone,a@example.com,East,true\n")
    (folder / "leads.csv").write_text("\n".join(leads) + "\n")
    (folder / "touches.csv").write_text("\n".join(touches) + "\n")
    (folder / "terms.toml").write_text(TERMS)
    return folder


def scorecard_json(url: str, month: str, capsys: pytest.CaptureFixture) -> dict:
    capsys.readouterr()
    assert main(["--db", url, "scorecard", "--month", month, "--as-of", AS_OF, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def history_url(db_url: str, tmp_path: Path) -> str:
    assert main(["--db", db_url, "import", str(write_history(tmp_path / "history"))]) == 0
    return db_url


def test_six_months_of_consequences_equal_the_hand_computed_table(history_url: str, capsys) -> None:
    csq = scorecard_json(history_url, "2026-06", capsys)["consequences"]
    assert csq["score"] == {"marketing": 1.0, "sales": 1.0, "overall": 1.0}
    assert [{k: c[k] for k in SHOWN_KEYS} for c in csq["by_commitment"]] == [
        {k: c[k] for k in SHOWN_KEYS} for c in EXPECTED_JUNE
    ]
    assert [c["credit_history_text"] for c in csq["by_commitment"]] == [c["credit_history_text"] for c in EXPECTED_JUNE]
    assert [{k: pytest.approx(v) if isinstance(v, float) else v for k, v in t.items()} for t in csq["trend"]] == (
        EXPECTED_TREND
    )


def test_march_sees_only_the_months_up_to_it(history_url: str, capsys) -> None:
    # Feb quota +1; Mar quota met (run of 1); first touch missed in March (score 0 of 0.5) → +1.
    csq = scorecard_json(history_url, "2026-03", capsys)["consequences"]
    assert csq["score"] == {"marketing": 1.0, "sales": 0.0, "overall": 0.5}
    shown = {c["commitment"]: (c["score"], c["strikes"], c["critical"], c["credits"]) for c in csq["by_commitment"]}
    assert shown == {"mql_quota": (1.0, 1, False, 1), "first_touch": (0.0, 1, False, 1), "attempts": (0.0, 1, False, 1)}


def test_a_month_not_yet_finished_has_null_scores_and_the_finished_months_strikes(history_url: str, capsys) -> None:
    csq = scorecard_json(history_url, "2026-07", capsys)["consequences"]
    assert csq["score"] == {"marketing": None, "sales": None, "overall": None}
    quota = csq["by_commitment"][0]
    assert (quota["commitment"], quota["score"], quota["strikes"], quota["critical"], quota["credits"]) == (
        "mql_quota",
        None,
        2,
        True,
        1,
    )


def test_a_closed_month_counts_with_its_snapshot(history_url: str, capsys) -> None:
    # February frozen as met (the snapshot, not today's data): the quota has 1 strike (May), no longer critical;
    # credits: Jan, Feb met (run at 0), Mar, Apr met, May +1, Jun → 1.
    engine = storage.make_engine(history_url)
    feb = api.scorecard(engine, "2026-02", api.parse_as_of(AS_OF))
    feb["marketing"] = {**feb["marketing"], "status": "met", "mqls": 2}
    storage.save_snapshot(engine, "2026-02", feb, as_of=api.parse_as_of(AS_OF), closed_by="cfo", terms_version_id=1)
    quota = scorecard_json(history_url, "2026-06", capsys)["consequences"]["by_commitment"][0]
    assert (quota["strikes"], quota["critical"], quota["credits"]) == (1, False, 1)
    assert quota["credit_history_text"] == "missed in May: +1"


def test_the_cli_table_shows_the_consequences(history_url: str, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", history_url, "scorecard", "--month", "2026-06", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "CONSEQUENCES" in out
    assert "mql_quota critical" in out and "True" in out
    assert "missed in February: +1; met March and April: −1; missed in May: +1" in out
