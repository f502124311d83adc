"""`python -m smarketing`: thin command-line wrappers over smarketing.api (DESIGN section 7)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.evidence import UNKNOWN, evidence_notes
from smarketing.core.months import parse_month
from smarketing.core.redact import scrub
from smarketing.core.scorecard import LEDGER_COLUMNS, LEDGER_V2_COLUMNS, ledger_records, scorecard_rows
from smarketing.core.terms import parse_terms_toml, terms_to_toml
from smarketing.outputs import log_scrub
from smarketing.outputs.exports import safe_cell, write_csv  # noqa: F401 (re-exported)
from smarketing.sources.canonical import read_text_file
from smarketing.store import storage

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        return fn

    return register


def one_line(text: str) -> str:
    """An error message on one line, whatever a value quoted in it holds."""
    return " ".join(text.split())


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line on stderr (exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {one_line(scrub(message)).rstrip('.')} (see {self.prog} --help).\n")


def _program_name() -> str:
    """`smarketing` when run as the console script, else `python -m smarketing`."""
    return "smarketing" if Path(sys.argv[0]).name == "smarketing" else "python -m smarketing"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=_program_name(), description="Sales and marketing SLA scorecards.")
    parser.add_argument("--db", help="database URL (default: $SMARKETING_DB or the SQLite file under data/)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def add(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """A subcommand that also accepts --db after its name."""
        return sub.add_parser(name, parents=[common], **kwargs)

    p = add("demo", help="fill the database with realistic generated data")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--months", type=int, default=18)
    p.add_argument("--if-empty", action="store_true", help="only when the database has no leads yet")

    p = add("import", help="import canonical CSV/Excel files (and terms.toml) from a folder")
    p.add_argument("dir")
    p.add_argument("--mapping", help="a mapping TOML for other layouts")
    p.add_argument("--preset", help="a named mapping preset")
    p.add_argument(
        "--refuse-unknown",
        action="store_true",
        help="import nothing when touches, deals or leads name a lead or owner nobody has (default: report them)",
    )

    p = add("sync", help="incremental pull from a CRM (HubSpot; token from HUBSPOT_ACCESS_TOKEN)")
    p.add_argument("source", choices=["hubspot"])
    p.add_argument("--full", action="store_true", help="re-read everything and remove records archived in HubSpot")

    for name, formats, default in (("scorecard", ("json", "table", "csv"), "table"), ("leads", ("csv", "json"), "csv")):
        p = add(name, help=f"one month's {'two-sided scorecard' if name == 'scorecard' else 'per-lead ledger'}")
        p.add_argument("--month", required=True, type=_month_arg)
        p.add_argument("--as-of", dest="as_of", help="ISO 8601 instant (default: now)")
        p.add_argument("--format", choices=formats, default=default)

    p = add("recalc", help="propose (or apply) the month's targets from what actually happened")
    p.add_argument("--month", required=True, type=_month_arg)
    p.add_argument("--apply", action="store_true", help="save the proposal as a new terms version")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = add("reopen", help="reopen a closed month so its terms and targets can change (recorded)")
    p.add_argument("--month", required=True, type=_month_arg)
    p.add_argument("--reason", required=True, help="why it is reopened (kept with its snapshot)")
    p.add_argument("--by", default=os.environ.get("USER", "cli"), help="who reopens it")

    p = add("close", help="freeze the month's scorecard")
    p.add_argument("--month", required=True, type=_month_arg)
    p.add_argument("--force", action="store_true", help="close although deadlines are open; re-close keeps history")
    p.add_argument("--by", default=os.environ.get("USER") or "cli", help="who closes it (default: $USER)")

    p = add("bench", help="the performance benchmark (JSON report and a table)")
    p.add_argument("--leads", type=int, default=100_000)
    p.add_argument("--months", type=int, default=18)
    p.add_argument("--no-app", action="store_true", help="skip the AppTest render of the home page")
    p.add_argument("--out", help="also write the JSON report to this file")

    p = add("report", help="export a month's scorecard report (.pdf, .xlsx or .csv, by the file name)")
    p.add_argument("--month", required=True, type=_month_arg)
    p.add_argument("--out", required=True, help="the file to write; its suffix picks the format")
    p.add_argument("--as-of", dest="as_of", help="ISO 8601 instant (default: now; a closed month uses its snapshot)")

    p = add("digest", help="a short text summary of a month for a chat channel")
    p.add_argument("--month", required=True, type=_month_arg)
    p.add_argument("--as-of", dest="as_of", help="ISO 8601 instant (default: now; a closed month uses its snapshot)")
    p.add_argument(
        "--webhook",
        help="post to this Slack/Teams-compatible webhook URL "
        "(default: $SMARKETING_DIGEST_WEBHOOK; none: print the digest)",
    )
    p.add_argument("--no-post", action="store_true", help="print the digest even when a webhook is configured")

    p = add("alerts", help="send the follow-up alerts that are due (routes from the environment, see the README)")
    p.add_argument("--as-of", dest="as_of", help="ISO 8601 instant (default: now)")
    p.add_argument("--dry-run", action="store_true", help="list the alerts; send and record nothing")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--every", type=_interval_arg, help="run again every interval (e.g. 5m, 30s, 1h) until stopped")
    p = add("exclusions", help="disputes: ask to exclude a lead from a commitment, decide, list")
    ex_sub = p.add_subparsers(dest="exclusions_command", required=True, metavar="ACTION")
    a = ex_sub.add_parser("add", help="request that a lead not count for a commitment")
    a.add_argument("--lead", required=True, help="the lead id")
    a.add_argument("--commitment", required=True, help="mql_quota, first_touch, attempts, acceptance or all")
    a.add_argument("--reason", required=True)
    a.add_argument("--by", default=os.environ.get("USER") or "cli", help="who asks (default: $USER)")
    d = ex_sub.add_parser("decide", help="approve or deny a pending request")
    d.add_argument("exclusion_id")
    verdict = d.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--deny", action="store_true")
    d.add_argument("--by", default=os.environ.get("USER") or "cli", help="who decides (default: $USER)")
    d.add_argument("--note", help="why")
    li = ex_sub.add_parser("list", help="every request and its decision")
    li.add_argument("--month", type=_month_arg, help="only the requests of this month's MQLs")
    li.add_argument("--format", choices=("table", "json", "csv"), default="table")

    p = add("terms", help="export or import the agreement's terms")
    terms_sub = p.add_subparsers(dest="terms_command", required=True, metavar="ACTION")
    e = terms_sub.add_parser("export", help="the terms version in force for a month, as TOML")
    e.add_argument("--month", type=_month_arg)
    i = terms_sub.add_parser("import", help="a new terms version from a month on")
    i.add_argument("file")
    i.add_argument("--from", dest="from_month", required=True, type=_month_arg)
    return parser


def _month_arg(text: str) -> str:
    try:
        return parse_month(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _interval_arg(text: str) -> float:
    """'5m', '30s', '1h' or plain seconds as seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not an interval such as 5m, 30s or 1h")
    return seconds


def engine_for(args: argparse.Namespace):
    return storage.make_engine(args.db or os.environ.get("SMARKETING_DB") or None)


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    if args.if_empty and storage.data_counts(engine)["leads"]:
        print("The database already has data; demo data not added.")
        return 0
    if args.months < 1 or args.months > 60:
        raise UserError("--months must be between 1 and 60.")
    counts = api.seed_demo(engine, seed=args.seed, months=args.months)
    print(f"Demo data written: {_counts_line(counts)}.")
    return 0


@command("import")
def cmd_import(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    if args.mapping or args.preset:
        from smarketing.sources import mapping

        report = mapping.import_mapped(
            engine, args.dir, mapping_file=args.mapping, preset=args.preset, refuse_unknown=args.refuse_unknown
        )
    else:
        report = api.import_directory(engine, args.dir, refuse_unknown=args.refuse_unknown)
    for warning in report.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Imported {args.dir}: {_counts_line(report['counts'])}.")
    if report.get("terms_effective_from"):
        print(f"The imported agreement is in force from {report['terms_effective_from']}.")
    return 0


@command("sync")
def cmd_sync(args: argparse.Namespace) -> int:
    from smarketing.sources.hubspot import TerminalProgress, run_sync, settings_from_env

    settings = settings_from_env()
    engine = engine_for(args)
    progress = TerminalProgress()
    try:
        report = run_sync(engine, settings, full=args.full, progress=progress)
    finally:
        progress.close()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.summary())
    return 0


def _counts_line(counts: dict[str, Any]) -> str:
    parts = []
    for table, c in counts.items():
        if isinstance(c, dict):
            parts.append(
                f"{table} {c.get('inserted', 0)} new, {c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged"
            )
        else:
            parts.append(f"{table} {c}")
    return "; ".join(parts)


@command("reopen")
def cmd_reopen(args: argparse.Namespace) -> int:
    api.reopen_month(engine_for(args), args.month, by=args.by, reason=args.reason)
    print(f"{args.month} is open again; its snapshot stays in the history with the reason.")
    return 0


@command("scorecard")
def cmd_scorecard(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    tz = api.month_terms(engine, args.month).timezone
    card = api.month_scorecard(engine, args.month, api.parse_as_of(args.as_of, tz))
    if card["closed"]:
        print(
            f"{args.month} is closed: this is its snapshot of {card['closed_at']} (as of {card['as_of']}).",
            file=sys.stderr,
        )
    if args.format == "json":
        print(json.dumps(card, indent=2))
    elif args.format == "csv":
        write_csv(sys.stdout, ["side", "measure", "value"], scorecard_rows(card))
    else:
        print(format_table(card))
    return 0


@command("leads")
def cmd_leads(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    tz = api.month_terms(engine, args.month).timezone
    frame, terms = api.ledger(engine, args.month, api.parse_as_of(args.as_of, tz))
    records = ledger_records(frame, terms.timezone, [*LEDGER_COLUMNS, *LEDGER_V2_COLUMNS])
    if args.format == "json":
        print(json.dumps(records, indent=2))
    else:
        columns = list(records[0]) if records else []
        write_csv(sys.stdout, columns, [[_cell(r[c]) for c in columns] for r in records])
    return 0


@command("recalc")
def cmd_recalc(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    proposal = api.recalc(engine, args.month)
    if args.format == "json":
        print(json.dumps(proposal, indent=2))
    else:
        print(format_recalc(proposal))
    if args.apply:
        version_id = api.apply_recalc(engine, proposal, by=os.environ.get("USER") or "cli")
        print(f"Applied: terms version {version_id} is in force from {args.month}.", file=sys.stderr)
    return 0


def format_recalc(proposal: dict) -> str:
    """A plain-text recalculation with its inputs."""
    inputs = proposal["inputs"]
    lines = [
        f"Targets for {proposal['month']}: quota {proposal['current_quota']} → proposed {proposal['proposed_quota']}",
        f"  average won deal size  {_show(inputs['avg_deal_size'])} from {inputs['won_deals']} won deals "
        f"closed in {', '.join(inputs['lookback_months'])}",
        f"  lead-to-customer rate  {_show(inputs['lead_to_customer_rate'])} = {inputs['cohort_customers']} customers"
        f" / {inputs['cohort_mqls']} MQLs of cohorts {', '.join(inputs['cohort_months'])}",
        f"  customers needed       {_show(inputs['customers_needed'])}",
        f"  carried shortfall      {inputs['carried_shortfall']}",
    ]
    for seg in proposal["by_segment"]:
        lines.append(
            f"  segment {seg['segment']}: {seg['current_quota']} → {seg['proposed_quota']}"
            + (f" ({seg['reason']})" if seg["reason"] else "")
        )
    if proposal["reason"]:
        lines.append(proposal["reason"])
    return "\n".join(lines)


@command("close")
def cmd_close(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    result = api.close_month(engine, args.month, closed_by=args.by, force=args.force)
    print(f"Closed {result['month']} as of {result['as_of']} (snapshot {result['snapshot_id']}).")
    return 0


@command("bench")
def cmd_bench(args: argparse.Namespace) -> int:
    from smarketing.bench import format_report, run_bench

    if args.leads < 1:
        raise UserError("--leads must be at least 1.")
    url = args.db or os.environ.get("SMARKETING_BENCH_DB")
    report = run_bench(args.leads, db_url=url, months=args.months, with_app=not args.no_app)
    text = json.dumps(report, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    print(text)
    print(format_report(report), file=sys.stderr)
    return 0


@command("terms")
def cmd_terms(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    if args.terms_command == "export":
        month = args.month or api.parse_as_of(None).strftime("%Y-%m")
        version = api.version_for(engine, month)
        sys.stdout.write(
            terms_to_toml(
                version.terms if version else api.month_terms(engine, month),
                version.effective_from if version else None,
            )
        )
        return 0
    text = read_text_file(Path(args.file), "terms file")
    parse_terms_toml(text)
    version_id = storage.save_terms_version(engine, text, args.from_month, note=f"imported from {args.file}")
    print(f"Terms version {version_id} is in force from {args.from_month}.")
    return 0


@command("exclusions")
def cmd_exclusions(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    if args.exclusions_command == "add":
        row = api.request_exclusion(engine, args.lead, args.commitment, args.reason, by=args.by)
        print(f"Exclusion {row['exclusion_id']} requested: lead {row['lead_id']} from {row['commitment']} (pending).")
        return 0
    if args.exclusions_command == "decide":
        row = api.decide_exclusion(engine, args.exclusion_id, approve=args.approve, by=args.by, note=args.note)
        print(f"Exclusion {row['exclusion_id']} {row['decision']} by {row['decided_by']}.")
        return 0
    tz = api.month_terms(engine, args.month or "9999-12").timezone
    records = api.exclusion_records(api.exclusion_requests(engine, month=args.month), tz)
    if args.format == "json":
        print(json.dumps(records, indent=2))
    elif args.format == "csv":
        write_csv(sys.stdout, api.EXCLUSION_COLUMNS, [[r[c] for c in api.EXCLUSION_COLUMNS] for r in records])
    else:
        for r in records:
            decided = f" by {r['decided_by']} {r['decided_at']}" if r["decision"] != "pending" else ""
            print(
                f"{r['exclusion_id']:>4}  lead {r['lead_id']}  {r['commitment']:<11} {r['decision']}{decided}  "
                f"asked by {r['requested_by']}: {r['reason']}"
            )
        if not records:
            print("No exclusion requests.")
    return 0


@command("report")
def cmd_report(args: argparse.Namespace) -> int:

    engine = engine_for(args)
    tz = api.month_terms(engine, args.month).timezone
    as_of = api.parse_as_of(args.as_of, tz) if args.as_of else None
    path = api.write_report(engine, args.month, args.out, as_of)
    print(f"Report for {args.month} written to {path}.")
    return 0


@command("digest")
def cmd_digest(args: argparse.Namespace) -> int:
    from smarketing.outputs.digest import WEBHOOK_ENV, post_digest, webhook_host

    engine = engine_for(args)
    tz = api.month_terms(engine, args.month).timezone
    as_of = api.parse_as_of(args.as_of, tz) if args.as_of else None
    text = api.month_digest(engine, args.month, as_of)
    webhook = None if args.no_post else (args.webhook or os.environ.get(WEBHOOK_ENV, "").strip() or None)
    if webhook is None:
        print(text)
        return 0
    post_digest(text, webhook)
    print(f"Digest for {args.month} posted to {webhook_host(webhook)}.")
    return 0


@command("alerts")
def cmd_alerts(args: argparse.Namespace) -> int:
    if args.every is None:
        return _alerts_once(args)
    if args.as_of:
        raise UserError("--every runs at the current time each round; leave out --as-of.")
    return run_every(args.every, lambda: _alerts_once(args))


def _alerts_once(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    as_of = api.parse_as_of(args.as_of, api.month_terms(engine, "9999-12").timezone)
    run = api.run_alerts(engine, as_of, dry_run=args.dry_run)
    if args.format == "json":
        print(json.dumps(run.records, indent=2), flush=True)
    else:
        print(format_alerts(run), flush=True)
    if run.inactive:
        owners = ", ".join(sorted({str(r["owner_id"]) for r in run.inactive}))
        print(
            f"note: {len(run.inactive)} due alert(s) not sent because the lead's owner is inactive ({owners}).",
            file=sys.stderr if args.format == "json" else sys.stdout,
            flush=True,
        )
    return 1 if any(r["state"] == "failed" for r in run.records) else 0


def run_every(seconds: float, once: Callable[[], int]) -> int:
    """Call `once` every `seconds` until SIGINT or SIGTERM; a failed round is reported, not fatal."""
    import signal
    import threading

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                once()
            except UserError as exc:
                print(f"error: {exc}", file=sys.stderr, flush=True)
            except Exception as exc:  # a bug or an outage must not end the loop; the next round retries
                print(f"error: this round failed ({type(exc).__name__}: {exc}); retrying.", file=sys.stderr, flush=True)
            stop.wait(max(0.0, seconds - (time.monotonic() - started)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Stopped.", file=sys.stderr, flush=True)
    return 0


def format_alerts(run: api.AlertRun) -> str:
    """The alerts of a run as plain text, one line each."""
    verb = "due (dry run: nothing sent)" if run.dry_run else "handled"
    stamp = run.as_of.tz_convert(run.timezone).strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"Alerts as of {stamp}: {len(run.records)} {verb}."]
    for r in run.records:
        left = r["hours_left"]
        when = f"{left:.1f} business h left" if left >= 0 else f"{-left:.1f} business h late"
        to = ", ".join(r["recipients"]) or "no route"
        line = f"  {r['state']:<6} {r['kind']:<19} lead {r['lead_id']} (owner {r['owner_id'] or '—'}), {when} → {to}"
        lines.append(line + (f" — {r['error']}" if r.get("error") else ""))
    return "\n".join(lines)


# -- output helpers ---------------------------------------------------------------------------------


def format_table(card: dict) -> str:
    """A plain-text two-sided scorecard for terminals."""
    lines = [f"Scorecard {card['month']} as of {card['as_of']}", ""]
    width = max(len(m) for _, m, _ in scorecard_rows(card)) + 2
    current = None
    for side, measure, value in scorecard_rows(card):
        if side != current:
            lines.append(side.upper())
            current = side
        shown = UNKNOWN if value is None and measure in ("won_revenue", "avg_won_deal_size") else _show(value)
        lines.append(f"  {measure:<{width}}{shown}")
    notes = evidence_notes(card)
    if notes:
        lines += ["", "NOTES", *(f"  {note}" for note in notes)]
    return "\n".join(lines)


def _cell(value: Any) -> Any:
    """A ledger value for CSV: lists (excluded_from) as semicolon-separated text."""
    return ";".join(value) if isinstance(value, list) else value


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    log_scrub.install()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = COMMANDS[args.command]
    try:
        return handler(args)
    except UserError as exc:
        print(f"error: {one_line(scrub(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing after the last commit was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception:
        # A bug: its traceback is shown for the report, but never a secret it may carry.
        print(scrub(traceback.format_exc()), file=sys.stderr)
        return 1
