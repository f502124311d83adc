"""A closed month on every page: its snapshot (the numbers of record) under the same banner, with a
"Show live numbers instead" toggle (reopening it is on the Executive review, beside closing).

Every page that shows a month's numbers takes its card from `shown`; a page that also draws
per-lead rows, which the snapshot does not carry, says in the banner which part is live.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from smarketing.ui import loaders
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import local_time, month_label

LIVE_KEY = "live_numbers"


@dataclass(frozen=True)
class Shown:
    """The card a page shows, whether the month is closed, and whether the card is live."""

    card: dict
    frozen: dict | None

    @property
    def closed(self) -> bool:
        """The month has a current snapshot."""
        return self.frozen is not None

    @property
    def live(self) -> bool:
        """The card is computed from the data as stored now (an open month, or the reader asked)."""
        return self.card is not self.frozen


def shown(ctx: PageContext, live_below: str | None = None) -> Shown:
    """The month's card: a closed month's snapshot under the "closed" banner (unless the reader turns on
    live numbers), else the live one; `live_below` names what the page draws live whatever is chosen."""
    frozen = loaders.snapshot(ctx.url, ctx.month, ctx.token)
    if frozen is None:
        return Shown(ctx.bundle().card, None)
    with st.container(border=True):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(
                f":material/ac_unit: **{month_label(ctx.month)} is closed.** Showing the numbers frozen on "
                f"{local_time(frozen.get('closed_at'), ctx.tz, with_zone=False)} (as of "
                f"{local_time(frozen.get('as_of'), ctx.tz)})."
            )
            live = st.toggle("Show live numbers instead", key=LIVE_KEY)
        if live:
            st.caption(
                f":material/update: Live numbers as of {local_time(ctx.as_of, ctx.tz)}, from the data as it is "
                "stored now; they may differ from the closed ones."
            )
        if live_below:
            st.caption(f":material/info: {live_below}")
    return Shown(ctx.bundle().card, frozen) if live else Shown(frozen, frozen)


def trend_cards(ctx: PageContext, month: Shown) -> dict[str, dict]:
    """The twelve months up to the selected one (closed months from their snapshots), with the selected
    month's live card when the reader asked for live numbers."""
    cards = loaders.trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month)
    if month.closed and month.live and ctx.month in cards:
        cards = {**cards, ctx.month: month.card}
    return cards


def consequences(ctx: PageContext, month: Shown) -> dict:
    """The month's consequences: a closed month's frozen ones, else (or when live numbers are asked for)
    computed over its history."""
    live = month.closed and month.live
    return loaders.consequences(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, live=live, first_month=ctx.first_month)
