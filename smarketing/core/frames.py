"""Canonical data as pandas frames (DESIGN section 2): schemas and normalisation.

Every source (demo, CSV import, HubSpot, the database) hands the core a `CrmData` whose
frames have exactly these columns: ids and text as pandas strings, instants as
datetime64[ns, UTC], flags as booleans, amounts as floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TOUCH_KINDS = ("call", "email", "meeting", "note", "task", "other")
QUALIFYING_KINDS = ("call", "email", "meeting")
DIRECTIONS = ("outbound", "inbound")
DEAL_STATUSES = ("open", "won", "lost")
NO_SEGMENT = "all"

TEXT, INSTANT, FLAG, AMOUNT = "text", "instant", "flag", "amount"

SCHEMAS: dict[str, dict[str, str]] = {
    "owners": {"owner_id": TEXT, "name": TEXT, "email": TEXT, "team": TEXT, "active": FLAG},
    "leads": {
        "lead_id": TEXT,
        "created_at": INSTANT,
        "mql_at": INSTANT,
        "assigned_at": INSTANT,
        "sql_at": INSTANT,
        "customer_at": INSTANT,
        "disqualified_at": INSTANT,
        "segment": TEXT,
        "source": TEXT,
        "owner_id": TEXT,
        "updated_at": INSTANT,
        "accepted_at": INSTANT,
        "rejected_at": INSTANT,
        "rejection_reason": TEXT,
    },
    "touches": {
        "touch_id": TEXT,
        "lead_id": TEXT,
        "owner_id": TEXT,
        "kind": TEXT,
        "occurred_at": INSTANT,
        "automated": FLAG,
        "direction": TEXT,
    },
    "deals": {
        "deal_id": TEXT,
        "lead_id": TEXT,
        "owner_id": TEXT,
        "amount": AMOUNT,
        "created_at": INSTANT,
        "closed_at": INSTANT,
        "status": TEXT,
        "pipeline": TEXT,
    },
    "exclusions": {
        "exclusion_id": TEXT,
        "lead_id": TEXT,
        "commitment": TEXT,
        "reason": TEXT,
        "requested_by": TEXT,
        "requested_at": INSTANT,
        "decision": TEXT,
        "decided_by": TEXT,
        "decided_at": INSTANT,
        "decision_note": TEXT,
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "owners": ("owner_id",),
    "leads": ("lead_id",),
    "touches": ("touch_id", "lead_id", "kind", "occurred_at"),
    "deals": ("deal_id", "status"),
    "exclusions": ("exclusion_id", "lead_id", "commitment", "reason"),
}
ID_COLUMN = {
    "owners": "owner_id",
    "leads": "lead_id",
    "touches": "touch_id",
    "deals": "deal_id",
    "exclusions": "exclusion_id",
}
# The four CRM tables every source fills; exclusions (disputes) are kept beside them.
TABLES = ("owners", "leads", "touches", "deals")
ALL_TABLES = (*TABLES, "exclusions")
COMMITMENTS = ("mql_quota", "first_touch", "attempts", "acceptance", "all")
DECISIONS = ("pending", "approved", "denied")


def empty_frame(table: str) -> pd.DataFrame:
    """A frame with the table's columns and dtypes and no rows."""
    return normalize(table, pd.DataFrame({c: [] for c in SCHEMAS[table]}))


def normalize(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Coerce a frame to the canonical columns and dtypes (missing columns become empty).

    Values must already be of the right kind (instants aware or UTC-naive); parsing of
    user text lives in the importer.
    """
    out = {}
    for column, kind in SCHEMAS[table].items():
        if column not in frame:
            out[column] = _empty_column(column, kind, frame.index)
            continue
        values = frame[column]
        if kind == TEXT:
            values = values.astype("string")
            if (values == "").any():  # only then: `where` copies every string
                values = values.where(values.str.len() > 0)
        elif kind == INSTANT:
            if isinstance(values.dtype, pd.DatetimeTZDtype):  # already instants: no parse, no copy
                values = values.dt.tz_convert("UTC").dt.as_unit("ns")
            else:
                values = pd.to_datetime(values, utc=True).dt.as_unit("ns")
        elif kind == FLAG:
            values = values.astype("boolean").fillna(column == "active").astype(bool)
        elif kind == AMOUNT:
            values = pd.to_numeric(values).astype("float64")
        out[column] = values
    result = pd.DataFrame(out, index=frame.index).reset_index(drop=True)
    if table == "leads":
        result["segment"] = _text_or(result["segment"], NO_SEGMENT)
    if table == "touches":
        result["direction"] = _text_or(result["direction"], "outbound")
    if table == "exclusions":
        result["decision"] = _text_or(result["decision"], "pending")
    return result


def _text_or(values: pd.Series, default: str) -> pd.Series:
    """A text column with its missing values as `default` (in Arrow: several times faster than fillna)."""
    arrow = _arrow_text(values)
    if arrow is None:
        return values.fillna(default)
    return pd.Series(pd.array(pc.fill_null(arrow, default), dtype=values.dtype), index=values.index, copy=False)


def _empty_column(column: str, kind: str, index: pd.Index) -> pd.Series:
    """A column a frame does not carry, as normalize makes it of missing values: NA text, NaT instants,
    flags False (`active` True), NaN amounts; built whole, not value by value."""
    if kind == TEXT:
        return pd.Series(pd.array(pa.nulls(len(index), pa.large_string()), dtype="string"), index=index, copy=False)
    if kind == INSTANT:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if kind == FLAG:
        return pd.Series(column == "active", index=index, dtype=bool)
    if kind == AMOUNT:
        return pd.Series(np.nan, index=index, dtype="float64")
    return pd.Series([None] * len(index), index=index, dtype=object)


def key_positions(keys: pd.Series, wanted: pd.Series, *, distinct: bool | None = None) -> np.ndarray:
    """Position in `keys` of each wanted value (-1 where absent), like pd.Index(keys).get_indexer.
    `distinct`: what distinct_text_keys(keys) says, when the caller already knows (else asked here).

    One factorize of both columns: Arrow-backed strings are hashed in Arrow, several times faster
    than an Index lookup, which turns every string into a Python object first."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.intp)
    own, asked = _arrow_text(keys), _arrow_text(wanted)
    if distinct is None:
        distinct = distinct_text_keys(keys)
    if own is not None and asked is not None and distinct:
        # Unique keys: one Arrow hash table of the keys, looked up by every wanted value (half a factorize of both).
        found = pc.index_in(asked.cast(own.type), value_set=own.combine_chunks())
        return found.fill_null(-1).to_numpy().astype(np.intp)
    codes, _ = pd.factorize(pd.concat([pd.Series(keys.array), pd.Series(wanted.array)], ignore_index=True))
    own, asked = codes[: len(keys)], codes[len(keys) :]
    if not np.array_equal(own, np.arange(len(keys))):  # repeated or missing keys: the Index decides
        return pd.Index(keys).get_indexer(wanted)
    return np.where(asked < len(keys), asked, -1).astype(np.intp)


def distinct_text_keys(keys: pd.Series) -> bool:
    """Whether keys are Arrow-backed text, none missing, none repeated (key_positions' fast case)."""
    own = _arrow_text(keys)
    return own is not None and not own.null_count and pc.count_distinct(own).as_py() == len(own)


def _arrow_text(values: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow strings behind a pandas string column (None for any other column)."""
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return None
    arrow = pa.array(values.array)
    return arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])


def among(values: pd.Series, known: pd.Series) -> np.ndarray:
    """Which values are among the known ones (text compared as text; missing is never among them).

    pyarrow's is_in: at millions of ids about ten times faster than Series.isin."""
    wanted, known = (_arrow_text(v.astype("string[pyarrow]")) for v in (values, known.dropna()))
    hit = pc.is_in(wanted, value_set=known.combine_chunks(), skip_nulls=True)
    return hit.fill_null(False).to_numpy()


@dataclass
class CrmData:
    """The four canonical tables and the exclusions, as frames."""

    owners: pd.DataFrame = field(default_factory=lambda: empty_frame("owners"))
    leads: pd.DataFrame = field(default_factory=lambda: empty_frame("leads"))
    touches: pd.DataFrame = field(default_factory=lambda: empty_frame("touches"))
    deals: pd.DataFrame = field(default_factory=lambda: empty_frame("deals"))
    exclusions: pd.DataFrame = field(default_factory=lambda: empty_frame("exclusions"))
    # What a partial load (one month's slice) knows of the whole source; None: the frames are whole.
    source_has_touches: bool | None = None  # whether the source holds any touch at all, any lead, any time
    earlier_mqls: pd.DataFrame | None = None  # lead_id, mql_at, segment of the MQLs just before the load

    @property
    def has_touches(self) -> bool:
        """Whether the source holds any touch at all (an export without activities has none)."""
        return bool(len(self.touches)) if self.source_has_touches is None else self.source_has_touches

    def mql_history(self) -> pd.DataFrame:
        """lead_id, mql_at, segment of every MQL known to this load (for the marketing prior)."""
        cached = self.__dict__.get("_mql_history")
        if cached is not None and cached[0] is self.leads and cached[1] is self.earlier_mqls:
            return cached[2]
        own = self.leads[["lead_id", "mql_at", "segment"]]
        if self.earlier_mqls is None or not len(self.earlier_mqls):
            history = own
        else:
            earlier = self.earlier_mqls[["lead_id", "mql_at", "segment"]]
            history = pd.concat([earlier, own.loc[~among(own["lead_id"], earlier["lead_id"])]])
        # Built once per load, so per-month scorecards on the same data stay cheap.
        self.__dict__["_mql_history"] = (self.leads, self.earlier_mqls, history)
        return history

    def touch_lead_rows(self) -> np.ndarray:
        """Row position in `leads` of each touch's lead (-1 where unknown), matched once per load."""
        return self._rows_in_leads("touches")

    def deal_lead_rows(self) -> np.ndarray:
        """Row position in `leads` of each deal's lead (-1 where unknown or missing), matched once per load."""
        return self._rows_in_leads("deals")

    def _rows_in_leads(self, table: str) -> np.ndarray:
        frame = getattr(self, table)
        cached = self.__dict__.get(f"_{table}_lead_rows")
        if cached is None or cached[0] is not self.leads or cached[1] is not frame:
            rows = key_positions(self.leads["lead_id"], frame["lead_id"], distinct=self._distinct_lead_ids())
            cached = (self.leads, frame, rows)
            self.__dict__[f"_{table}_lead_rows"] = cached
        return cached[2]

    def _distinct_lead_ids(self) -> bool:
        """distinct_text_keys of the lead ids, asked once per leads frame (touches and deals both match them)."""
        cached = self.__dict__.get("_lead_ids_distinct")
        if cached is None or cached[0] is not self.leads:
            cached = (self.leads, distinct_text_keys(self.leads["lead_id"]))
            self.__dict__["_lead_ids_distinct"] = cached
        return cached[1]

    @classmethod
    def of(cls, **frames: pd.DataFrame) -> CrmData:
        """Normalise whichever tables are given; the rest are empty."""
        return cls(**{t: normalize(t, frames[t]) if t in frames else empty_frame(t) for t in ALL_TABLES})

    def lead_rows(self, lead_ids: pd.Series) -> np.ndarray:
        """Row positions in `leads` of the given ids (-1 where unknown). The hash index is built
        once per leads frame, so per-month calls on the same data stay cheap."""
        cached = self.__dict__.get("_lead_index")
        if cached is None or cached[0] is not self.leads:
            cached = (self.leads, pd.Index(self.leads["lead_id"]))
            self.__dict__["_lead_index"] = cached
        return cached[1].get_indexer(lead_ids)

    def frame(self, table: str) -> pd.DataFrame:
        return getattr(self, table)

    def counts(self) -> dict[str, int]:
        return {t: int(len(self.frame(t))) for t in TABLES}
