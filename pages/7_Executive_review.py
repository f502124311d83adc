"""Executive review: the monthly alignment meeting — the month's two columns (frozen once closed),
the consequences (weighted scores, strikes, critical flags, credits), twelve months of every
commitment, next month's targets, the notes and the report."""

import streamlit as st

from smarketing.ui import consequences_view, exclusions_view, setup_page
from smarketing.ui import review_view as view
from smarketing.ui.components import in_order
from smarketing.ui.context import empty_month
from smarketing.ui.loaders import consequences, trend_cards
from smarketing.ui.targets_panel import next_month_targets

chosen = view.month_was_chosen()
ctx = setup_page("Executive review", ":material/groups:")
view.steer_to_last_full_month(ctx, chosen)
card, prev, prev_month = view.review_cards(ctx)

view.month_status(ctx, card)
if empty_month(ctx, card):
    st.stop()
view.two_columns(card, prev, prev_month)
in_order(
    ("the consequences", lambda: consequences_view.month(consequences(ctx.url, ctx.month, ctx.as_of_iso, ctx.token))),
    (
        "twelve months of every commitment",
        lambda: view.commitments(trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month)),
    ),
    ("next month's targets", lambda: next_month_targets(ctx, card)),
    ("the review queue", lambda: exclusions_view.review_queue(ctx)),
    ("the notes and the report", lambda: view.notes_and_report(ctx, card)),
)
