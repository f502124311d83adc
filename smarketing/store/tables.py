"""The database tables (SQLModel): the canonical data, terms versions, snapshots, notes, sync state, loads.

Every change to these classes is a migration in `smarketing/store/migrations/versions/`, and
`tests/integration/test_migrations.py` checks that the migrated schema equals these models.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def _instant(*, index: bool = False, nullable: bool = True) -> Any:
    """A timezone-aware timestamp column."""
    column = sa.Column(sa.DateTime(timezone=True), index=index, nullable=nullable)
    return Field(default=None, sa_column=column)


def _text(*, nullable: bool = True) -> Any:
    """An unbounded text column."""
    return Field(default=None, sa_column=sa.Column(sa.Text, nullable=nullable))


class Owner(SQLModel, table=True):
    """A CRM user who owns leads (frames.SCHEMAS["owners"])."""

    __tablename__ = "owners"
    owner_id: str = Field(primary_key=True)
    name: str | None = None
    email: str | None = None
    team: str | None = None
    active: bool = True


class Lead(SQLModel, table=True):
    """A contact and its lifecycle instants (frames.SCHEMAS["leads"])."""

    __tablename__ = "leads"
    lead_id: str = Field(primary_key=True)
    created_at: datetime | None = _instant()
    mql_at: datetime | None = _instant(index=True)
    assigned_at: datetime | None = _instant()
    sql_at: datetime | None = _instant()
    customer_at: datetime | None = _instant()
    disqualified_at: datetime | None = _instant()
    segment: str | None = None
    source: str | None = None
    owner_id: str | None = None
    updated_at: datetime | None = _instant()
    accepted_at: datetime | None = _instant()
    rejected_at: datetime | None = _instant()
    rejection_reason: str | None = _text()


class Touch(SQLModel, table=True):
    """A sales activity on a lead (frames.SCHEMAS["touches"])."""

    __tablename__ = "touches"
    # A lead's touches in time order with what a follow-up read filters and keeps (storage's
    # FOLLOW_UP_COLUMNS): that read is answered from the index alone, one contiguous run per lead,
    # instead of a jump into the table for each touch (a third of the time). It serves lookups by
    # lead_id too, so it replaced their own index (issue 17).
    __table_args__ = (
        sa.Index("ix_touches_lead_follow_ups", "lead_id", "occurred_at", "kind", "automated", "direction"),
    )
    touch_id: str = Field(primary_key=True)
    lead_id: str
    owner_id: str | None = None
    kind: str
    occurred_at: datetime = _instant(index=True, nullable=False)
    automated: bool = False
    direction: str | None = None


class Deal(SQLModel, table=True):
    """A deal, linked to its first contact (frames.SCHEMAS["deals"])."""

    __tablename__ = "deals"
    deal_id: str = Field(primary_key=True)
    lead_id: str | None = Field(default=None, index=True)
    owner_id: str | None = None
    amount: float | None = None
    created_at: datetime | None = _instant()
    closed_at: datetime | None = _instant(index=True)
    status: str
    pipeline: str | None = None


class Exclusion(SQLModel, table=True):
    """A request to leave a lead out of a commitment, and its decision (frames.SCHEMAS["exclusions"]).

    Rows are never deleted: the table is the disputes' audit trail."""

    __tablename__ = "exclusions"
    exclusion_id: str = Field(primary_key=True)
    lead_id: str = Field(index=True)
    commitment: str
    reason: str = _text(nullable=False)
    requested_by: str | None = None
    requested_at: datetime | None = _instant()
    decision: str = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = _instant()
    decision_note: str | None = _text()


class StoredTermsVersion(SQLModel, table=True):
    """One version of the agreement as TOML; rows are never edited."""

    __tablename__ = "terms_versions"
    id: int | None = Field(default=None, primary_key=True)
    effective_from: str
    toml: str = _text(nullable=False)
    created_at: datetime = _instant(nullable=False)
    note: str | None = None


class MonthSnapshot(SQLModel, table=True):
    """A closed month's frozen scorecard; at most one per month is not superseded."""

    __tablename__ = "month_snapshots"
    __table_args__ = (
        sa.Index(
            "ux_month_snapshots_current",
            "month",
            unique=True,
            sqlite_where=sa.text("superseded = 0"),
            postgresql_where=sa.text("NOT superseded"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(index=True)
    as_of: datetime = _instant(nullable=False)
    closed_at: datetime = _instant(nullable=False)
    closed_by: str
    terms_version_id: int | None = None
    payload: str = _text(nullable=False)
    superseded: bool = False
    notes: str | None = _text()


class MonthNote(SQLModel, table=True):
    """Free-text notes of a month (the alignment meeting's minutes)."""

    __tablename__ = "month_notes"
    month: str = Field(primary_key=True)
    notes: str = _text(nullable=False)
    updated_at: datetime = _instant(nullable=False)
    updated_by: str


class SyncState(SQLModel, table=True):
    """A source's resume cursor per object type."""

    __tablename__ = "sync_state"
    object_type: str = Field(primary_key=True)
    cursor: str = _text(nullable=False)
    updated_at: datetime = _instant(nullable=False)


class DataLoad(SQLModel, table=True):
    """One save_data call: where the rows came from and how it went."""

    __tablename__ = "data_loads"
    id: int | None = Field(default=None, primary_key=True)
    source: str
    detail: str = _text(nullable=False)
    started_at: datetime = _instant(nullable=False)
    finished_at: datetime = _instant(nullable=False)
    status: str
    counts: str = _text(nullable=False)
    error: str | None = _text()


class AlertLogEntry(SQLModel, table=True):
    """One follow-up alert (lead, kind) and how its delivery went; recipients are labels, never URLs."""

    __tablename__ = "alert_log"
    lead_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    owner_id: str | None = None
    trigger_at: datetime = _instant(index=True, nullable=False)
    state: str
    recipients: str = _text(nullable=False)
    delivered: str = _text(nullable=False)
    attempts: int = 0
    error: str | None = _text()
    first_seen_at: datetime = _instant(nullable=False)
    updated_at: datetime = _instant(nullable=False)
    sent_at: datetime | None = _instant()


DATA_MODELS: dict[str, type[SQLModel]] = {"owners": Owner, "leads": Lead, "touches": Touch, "deals": Deal}
DATA_TABLES: dict[str, sa.Table] = {n: m.__table__ for n, m in DATA_MODELS.items()}  # type: ignore[attr-defined]
EXCLUSIONS: sa.Table = Exclusion.__table__  # type: ignore[attr-defined]
TERMS: sa.Table = StoredTermsVersion.__table__  # type: ignore[attr-defined]
SNAPSHOTS: sa.Table = MonthSnapshot.__table__  # type: ignore[attr-defined]
NOTES: sa.Table = MonthNote.__table__  # type: ignore[attr-defined]
SYNC: sa.Table = SyncState.__table__  # type: ignore[attr-defined]
LOADS: sa.Table = DataLoad.__table__  # type: ignore[attr-defined]
ALERT_LOG: sa.Table = AlertLogEntry.__table__  # type: ignore[attr-defined]
metadata = SQLModel.metadata
