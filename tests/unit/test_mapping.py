"""The mapping format (smarketing.sources.mapping) on small in-memory files: no database, no disk.

Every test builds files as bytes and runs the same pipeline the import uses
(`run_mapping`) or the Data page's `preview_import`.
"""

from __future__ import annotations

import codecs

import pandas as pd
import pytest

from smarketing.core.errors import UserError
from smarketing.sources import mapping
from smarketing.sources.canonical import MAX_PROBLEMS, ImportFailed, parse_instants
from smarketing.sources.mapping import InputFile, Rule, detect_delimiter, parse_mapping, run_mapping

pytestmark = pytest.mark.unit

SP = "America/Sao_Paulo"


def run(toml: str, files: dict[str, str | bytes], tz: str = "UTC"):
    """run_mapping over in-memory files (text is written as UTF-8)."""
    inputs = [
        InputFile(name, data=data.encode("utf-8") if isinstance(data, str) else data) for name, data in files.items()
    ]
    return run_mapping(parse_mapping(toml), inputs, tz)


def failure(toml: str, files: dict[str, str | bytes], tz: str = "UTC") -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        run(toml, files, tz)
    return caught.value


LEADS = """
[[leads]]
file = "leads*.csv"
[leads.columns]
lead_id = "id"
mql_at = { column = "when", format = ["%d-%m-%Y %H:%M", "%d-%m-%Y"] }
"""


# -- rules ---------------------------------------------------------------------------------------


def holds(rule: str, frame: pd.DataFrame) -> list[bool]:
    return Rule.parse(rule).holds(frame, lambda name: frame[name]).tolist()


def test_rules_compare_text_case_insensitively_and_flags_as_flags():
    frame = pd.DataFrame({"Status": ["Completed", "completed ", "Open", ""], "IsWon": ["true", "1", "0", ""]})
    frame = frame.apply(lambda s: s.str.strip())
    assert holds("Status == 'Completed'", frame) == [True, True, False, False]
    assert holds("Status != 'completed'", frame) == [False, False, True, True]
    assert holds("IsWon == true", frame) == [True, True, False, False]
    assert holds("IsWon == false", frame) == [False, False, True, False]
    assert holds("Status is empty", frame) == [False, False, False, True]
    assert holds("Status is not empty and not IsWon == true", frame) == [False, False, True, False]
    assert holds("Status in ('open', \"Completed\")", frame) == [True, True, True, False]
    assert holds("Status not in ('open')", frame) == [True, True, False, True]
    assert holds("Status contains 'PLET'", frame) == [True, True, False, False]
    assert holds("(Status == 'Open' or IsWon == true) and not Status is empty", frame) == [True, True, True, False]


def test_rules_compare_numbers_and_read_backquoted_columns():
    frame = pd.DataFrame({"Close Value": ["1,200", "15", "", "x"]})
    assert holds("`Close Value` >= 100", frame) == [True, False, False, False]
    assert holds("`Close Value` < 100", frame) == [False, True, False, False]


@pytest.mark.parametrize(
    "text", ["Status ==", "== 'x'", "Status = 'a' and", "Status in 'a'", "Status is full", "(a == 1"]
)
def test_unreadable_rules_are_rejected(text):
    with pytest.raises(mapping.RuleError):
        Rule.parse(text)


# -- mapping validation --------------------------------------------------------------------------


def test_a_mapping_with_mistakes_names_every_one():
    toml = """
    timezone = "Mars/Olympus"
    colour = "red"
    [[leads]]
    file = "x.csv"
    mode = "sometimes"
    skip = ["Status =="]
    [leads.columns]
    lead_id = { column = "Id", prefx = "L-" }
    mql_time = "CreatedDate"
    segment = { column = "A", value = "b" }
    [[touches]]
    file = "t.csv"
    [touches.columns]
    touch_id = "Id"
    """
    with pytest.raises(UserError) as caught:
        parse_mapping(toml)
    message = str(caught.value)
    for part in (
        "Mars/Olympus",
        "'colour'",
        "mode must be one of",
        "the skip rule",
        "'prefx'",
        "'mql_time' is not a leads column",
        "exactly one of",
        "must say how lead_id is made",
        "must say how kind is made",
    ):
        assert part in message, part


def test_every_preset_parses_and_is_listed():
    assert mapping.preset_names() == ["maven-crm", "olist", "salesforce"]
    for name in mapping.preset_names():
        assert mapping.load_mapping(preset=name).sources
    with pytest.raises(UserError, match=r"no preset 'hubspot'.*maven-crm, olist, salesforce"):
        mapping.load_mapping(preset="hubspot")


def test_not_valid_toml_is_one_sentence():
    with pytest.raises(UserError, match="not valid TOML"):
        parse_mapping("[[leads]\nfile = 'x'")


# -- values --------------------------------------------------------------------------------------


def test_day_first_date_and_minute_formats_are_local_time_in_the_timezone():
    result = run(LEADS, {"leads.csv": "id,when\nA,05-03-2018\nB,05-03-2018 14:30\nC,\n"}, tz=SP)
    leads = result.data.leads.set_index("lead_id")
    assert leads.at["A", "mql_at"] == pd.Timestamp("2018-03-05 00:00", tz=SP)
    assert leads.at["B", "mql_at"] == pd.Timestamp("2018-03-05 14:30", tz=SP)
    assert pd.isna(leads.at["C", "mql_at"])


def test_a_midnight_that_daylight_saving_skips_moves_forward_and_stays_in_its_day():
    # Brazil moved its clocks at midnight: 2017-10-15 00:00 did not exist in Sao Paulo.
    result = run(LEADS, {"leads.csv": "id,when\nA,15-10-2017\n"}, tz=SP)
    stamp = result.data.leads.at[0, "mql_at"].tz_convert(SP)
    assert (stamp.date().isoformat(), stamp.hour) == ("2017-10-15", 1)


def test_formats_with_an_offset_and_iso_and_epoch():
    values = pd.Series(["2024-03-05T14:30:00+0100", "2024-03-05 09:00", "1709650800000", ""])
    parsed, bad = parse_instants(values, "America/New_York", ["%Y-%m-%dT%H:%M:%S%z", "ISO8601", "epoch_ms"])
    assert parsed.tolist()[:3] == [
        pd.Timestamp("2024-03-05 13:30", tz="UTC"),
        pd.Timestamp("2024-03-05 14:00", tz="UTC"),
        pd.Timestamp("2024-03-05 15:00", tz="UTC"),
    ]
    assert bad.tolist() == [False, False, False, False]


def test_spec_expressions_make_ids_names_and_statuses():
    toml = """
    null_values = ["null"]
    [[owners]]
    file = "people.csv"
    [owners.columns]
    owner_id = { hash = ["first", "last"], prefix = "o-" }
    name = { concat = ["first", "last"] }
    email = { first_of = ["work", "home"] }
    team = { value = "Sales" }
    active = { cases = [ { if = "state == 'gone'", value = "false" } ], else = { value = "true" } }
    [[leads]]
    file = "people.csv"
    [leads.columns]
    lead_id = { row_number = true, prefix = "row-" }
    source = { column = "src", map = { "Web Form" = "web", "" = "" }, known = ["email"], otherwise = "other" }
    segment = { column = "seg", default = "B" }
    """
    text = (
        "first,last,work,home,state,src,seg\n"
        "Ana,Souza,ana@w.example,,here,web form,A\n"
        "Ben,null,,ben@h.example,gone,Email,\n"
        "Chloé,Martin,null,c@h.example,here,Fax,null\n"
    )
    result = run(toml, {"people.csv": text})
    owners = result.data.owners
    assert owners["name"].tolist() == ["Ana Souza", "Ben", "Chloé Martin"]
    assert owners["email"].tolist() == ["ana@w.example", "ben@h.example", "c@h.example"]
    assert owners["active"].tolist() == [True, False, True]
    assert owners["team"].tolist() == ["Sales"] * 3
    assert owners["owner_id"].str.match(r"^o-[0-9a-f]{16}$").all() and owners["owner_id"].is_unique
    leads = result.data.leads
    assert leads["lead_id"].tolist() == ["row-2", "row-3", "row-4"]
    assert leads["source"].tolist() == ["web", "Email", "other"]
    assert leads["segment"].tolist() == ["A", "B", "B"]
    assert result.warnings == [
        "people.csv, column src: 1 row has a value the mapping does not know ('Fax' (1 row, first at row 4)); "
        "they became 'other'."
    ]


def test_the_same_hash_id_comes_back_on_every_import():
    toml = '[[leads]]\nfile = "l.csv"\n[leads.columns]\nlead_id = { hash = ["a", "b"] }\n'
    first = run(toml, {"l.csv": "a,b\nx,y\n"}).data.leads["lead_id"].tolist()
    again = run(toml, {"l.csv": "b,a\ny,x\n"}).data.leads["lead_id"].tolist()
    assert first == again


def test_unknown_values_are_warnings_and_may_be_errors():
    toml = """
    [[leads]]
    file = "l.csv"
    [leads.columns]
    lead_id = "id"
    source = { column = "src", known = ["web", "email"] }
    """
    result = run(toml, {"l.csv": "id,src\n1,web\n2,fax\n3,fax\n4,\n"})
    assert result.data.leads["source"].tolist()[:3] == ["web", "fax", "fax"]
    assert result.warnings == [
        "l.csv, column src: 2 rows have values the mapping does not know "
        "('fax' (2 rows, first at row 3)); they were kept as they are."
    ]
    strict = toml.replace('known = ["web", "email"]', 'known = ["web", "email"], unknown = "error"')
    problem = failure(strict, {"l.csv": "id,src\n1,web\n2,fax\n"})
    assert problem.problems == [
        "l.csv, row 3, column src: 'fax' is not one of the values the mapping knows (email, web)."
    ]


def test_a_status_outside_the_canonical_values_is_an_error_naming_the_row():
    toml = """
    [[deals]]
    file = "d.csv"
    [deals.columns]
    deal_id = "id"
    status = { column = "stage", map = { "Closed Won" = "won" }, unknown = "keep" }
    """
    problem = failure(toml, {"d.csv": "id,stage\n1,Closed Won\n2,Negotiation\n"})
    assert problem.problems == ["d.csv, row 3, column stage: 'Negotiation' is not one of open, won, lost."]


def test_lookups_enrich_and_distinct_sources_and_derived_customers():
    toml = """
    [derive]
    customer_at_from_won_deals = true
    [combine]
    owners = { team = "join" }
    [[leads]]
    file = "leads.csv"
    [leads.columns]
    lead_id = "id"
    mql_at = "created"
    segment = { column = "account", lookup = { file = "accounts.csv", key = "name", value = "sector" } }
    [[leads]]
    file = "deals.csv"
    mode = "enrich"
    [leads.columns]
    lead_id = "lead"
    owner_id = "sdr"
    [[deals]]
    file = "deals.csv"
    [deals.columns]
    deal_id = { column = "lead", prefix = "d-" }
    lead_id = "lead"
    status = { value = "won" }
    closed_at = "won"
    [[owners]]
    file = "deals.csv"
    mode = "distinct"
    [owners.columns]
    owner_id = "sdr"
    team = { value = "SDR" }
    [[owners]]
    file = "deals.csv"
    mode = "distinct"
    [owners.columns]
    owner_id = "sr"
    team = { value = "SR" }
    """
    files = {
        "leads.csv": "id,created,account\nL1,2024-01-02,Acme\nL2,2024-01-03,Nobody\nL3,2024-01-04,\n",
        "accounts.csv": "name,sector\nAcme,retail\n",
        "deals.csv": "lead,sdr,sr,won\nL1,s1,r1,2024-02-01\nL3,s1,s2,2024-03-01\nL9,s2,r1,2024-03-05\n",
    }
    result = run(toml, files)
    leads = result.data.leads.set_index("lead_id")
    assert leads["segment"].to_dict() == {"L1": "retail", "L2": "all", "L3": "all"}
    assert leads["owner_id"].fillna("-").to_dict() == {"L1": "s1", "L2": "-", "L3": "s1"}
    assert leads.at["L1", "customer_at"] == pd.Timestamp("2024-02-01", tz="UTC")
    assert leads.at["L3", "customer_at"] == pd.Timestamp("2024-03-01", tz="UTC")
    assert pd.isna(leads.at["L2", "customer_at"])
    assert result.data.deals["deal_id"].tolist() == ["d-L1", "d-L3", "d-L9"]
    owners = result.data.owners.set_index("owner_id")["team"].to_dict()
    assert owners == {"s1": "SDR", "s2": "SDR / SR", "r1": "SR"}
    assert result.skipped == {"leads": 1}
    assert any("1 row name a lead_id that no other leads source has (for example 'L9')" in w for w in result.warnings)


def test_skip_rules_and_blank_rows_are_counted_not_imported():
    toml = """
    [[touches]]
    file = "calls.csv"
    skip = ["done == false", "who is empty"]
    [touches.columns]
    touch_id = { row_number = true, prefix = "call-" }
    lead_id = "who"
    kind = { value = "call" }
    occurred_at = { column = "at", format = "%m/%d/%Y %I:%M %p" }
    """
    text = "who,done,at\nL1,true,3/5/2024 2:30 PM\nL2,false,3/5/2024 3:00 PM\n\n,true,3/6/2024 9:00 AM\n"
    result = run(toml, {"calls.csv": text}, tz="America/New_York")
    touches = result.data.touches
    assert touches["touch_id"].tolist() == ["call-2"]
    assert touches["kind"].tolist() == ["call"]
    assert touches.at[0, "occurred_at"] == pd.Timestamp("2024-03-05 14:30", tz="America/New_York")
    assert result.skipped == {"touches": 3}
    assert result.files == [{"file": "calls.csv", "table": "touches", "mode": "rows", "rows": 4, "skipped": 3}]


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("a,b,c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ("a|b|c", "|"),
        ("single", ","),
        ('"x;y",b,c', ","),
    ],
)
def test_delimiter_detection_reads_the_header(line, expected):
    assert detect_delimiter(line) == expected


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.encode("latin-1"),
        lambda t: t.encode("cp1252"),
        lambda t: t.encode("utf-16"),
        lambda t: t.encode("utf-8"),
    ],
)
def test_encodings_are_detected(encode):
    toml = '[[owners]]\nfile = "u.csv"\n[owners.columns]\nowner_id = "Id"\nname = "Name"\n'
    result = run(toml, {"u.csv": encode("Id;Name\nU1;José Álvarez\nU2;Zoë Brontë\n")})
    assert result.data.owners["name"].tolist() == ["José Álvarez", "Zoë Brontë"]


def test_excel_files_are_read_and_real_date_cells_understood(tmp_path):
    frame = pd.DataFrame({"id": ["A", "B"], "when": [pd.Timestamp("2018-03-05 10:00"), "06-03-2018"]})
    path = tmp_path / "leads.xlsx"
    frame.to_excel(path, index=False)
    toml = LEADS.replace('"leads*.csv"', '"leads*.xlsx"')
    result = run(toml, {"leads.xlsx": path.read_bytes()}, tz=SP)
    assert result.data.leads["mql_at"].tolist() == [
        pd.Timestamp("2018-03-05 10:00", tz=SP),
        pd.Timestamp("2018-03-06", tz=SP),
    ]


# -- problems ------------------------------------------------------------------------------------


def test_a_problem_names_file_row_column_and_value():
    rows = "".join(f"L{i},01-02-2018\n" for i in range(2, 6000))
    rows = rows.replace("L4999,01-02-2018", "L4999,31-02-2018")
    problem = failure(LEADS, {"leads.csv": "id,when\n" + rows})
    assert problem.problems == [
        "leads.csv, row 4999, column when: '31-02-2018' is not a date in the format %d-%m-%Y %H:%M "
        "(for example 05-03-2026 14:30) or %d-%m-%Y (for example 05-03-2026)."
    ]


def test_problems_stop_at_the_limit_and_count_the_rest():
    rows = "".join(f"L{i},someday\n" for i in range(30))
    problem = failure(LEADS, {"leads.csv": "id,when\n" + rows})
    assert problem.total == 30
    assert str(problem).count("someday") == MAX_PROBLEMS
    assert str(problem).endswith(f"(and {30 - MAX_PROBLEMS} more problems)")


def test_problems_are_counted_across_chunks():
    toml = "chunk_rows = 7\n" + LEADS
    rows = "".join(f"L{i},{'bad' if i % 5 == 0 else '01-02-2018'}\n" for i in range(50))
    problem = failure(toml, {"leads.csv": "id,when\n" + rows})
    assert problem.total == 10
    assert problem.problems[1].startswith("leads.csv, row 7, column when: 'bad'")


def test_duplicate_ids_name_both_rows_also_across_chunks_and_files():
    toml = "chunk_rows = 2\n" + LEADS
    problem = failure(
        toml,
        {
            "leads-a.csv": "id,when\nA,01-02-2018\nB,01-02-2018\nC,01-02-2018\nA,01-02-2018\n",
            "leads-b.csv": "id,when\nC,01-02-2018\n",
        },
    )
    assert problem.problems == [
        "leads-a.csv, row 5, column id: 'A' appears more than once (first at row 2); each lead_id must be unique.",
        "leads-b.csv, row 2, column id: 'C' appears more than once (first at leads-a.csv row 4); each lead_id must be unique.",
    ]


def test_a_missing_column_lists_the_columns_there_are():
    problem = failure(LEADS, {"leads.csv": "\ufeffid,date\nA,01-02-2018\n"})
    assert problem.problems == ["leads.csv has no column 'when' (needed for leads.mql_at); the columns are: id, date."]


def test_a_missing_file_lists_the_files_there_are():
    problem = failure(LEADS, {"contacts.csv": "id,when\n"})
    assert problem.problems == ["No file matches leads*.csv (needed for leads); the files are: contacts.csv."]


def test_wrong_delimiters_are_explained():
    declared = LEADS.replace('file = "leads*.csv"', 'file = "leads*.csv"\ndelimiter = ","')
    problem = failure(declared, {"leads.csv": "id;when\nA;01-02-2018\n"})
    assert problem.problems == [
        "leads.csv: the header is one column 'id;when' when split at ','; the file looks separated by ';' "
        '(set delimiter = ";" in the mapping, or remove delimiter to detect it).'
    ]
    mixed = failure(LEADS, {"leads.csv": "id,when\nA;01-02-2018\n"})
    assert mixed.problems == [
        "leads.csv, row 2: 'A;01-02-2018' is one field, but the header has 2 columns separated by ',';"
        " the rows look separated by ';'."
    ]
    extra = failure(LEADS, {"leads.csv": "id,when\nA,01-02-2018\nB,01-02-2018,x\n"})
    assert extra.problems == [
        "leads.csv, line 3: has 3 fields but the header has 2; check the delimiter (',') and that text with "
        "delimiters is in double quotes."
    ]


# -- preview -------------------------------------------------------------------------------------


def test_preview_shows_the_first_canonical_rows_and_counts():
    files = {"leads.csv": ("id,when\n" + "".join(f"L{i},0{1 + i % 9}-02-2018\n" for i in range(50))).encode()}
    preview = mapping.preview_import(files, mapping=LEADS, timezone=SP, head=5)
    assert preview.problems == [] and preview.warnings == []
    assert list(preview.frames) == ["leads"]
    assert len(preview.frames["leads"]) == 5
    assert preview.counts == {"owners": 0, "leads": 50, "touches": 0, "deals": 0}
    assert preview.frames["leads"].at[0, "mql_at"] == pd.Timestamp("2018-02-01", tz=SP)


def test_preview_reports_problems_and_a_broken_mapping_without_raising():
    files = {"leads.csv": b"id,when\nA,yesterday\n"}
    preview = mapping.preview_import(files, mapping=LEADS)
    assert preview.frames == {} and preview.problems == [
        "leads.csv, row 2, column when: 'yesterday' is not a date in the format %d-%m-%Y %H:%M "
        "(for example 05-03-2026 14:30) or %d-%m-%Y (for example 05-03-2026)."
    ]
    broken = mapping.preview_import(files, mapping="[[leads]]\nfile = 3\n")
    assert len(broken.problems) == 1 and "needs file" in broken.problems[0]


def test_preview_without_a_mapping_reads_the_canonical_layout():
    files = {
        "leads.csv": b"lead_id,mql_at,segment\nL1,2026-03-05T10:00:00-05:00,A\n",
        "touches.csv": b"touch_id,lead_id,kind,occurred_at\nT1,L1,call,2026-03-05T11:00:00-05:00\n",
    }
    preview = mapping.preview_import(files)
    assert preview.problems == []
    assert preview.counts == {"owners": 0, "leads": 1, "touches": 1, "deals": 0}
    assert preview.frames["touches"].at[0, "direction"] == "outbound"
