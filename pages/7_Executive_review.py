"""Executive review: the monthly alignment meeting — the month's two columns (frozen once closed),
the consequences (weighted scores, strikes, critical flags, credits), twelve months of every
commitment, next month's targets, the notes and the report."""

import streamlit as st

from smarketing.ui import closed_month, consequences_view, exclusions_view, setup_page
from smarketing.ui import review_view as view
from smarketing.ui.components import in_order
from smarketing.ui.context import empty_month
from smarketing.ui.targets_panel import next_month_targets, prefetch_targets

chosen = view.month_was_chosen()
ctx = setup_page("Executive review", ":material/groups:")
view.steer_to_last_full_month(ctx, chosen)
month, prev, prev_month = view.review_cards(ctx)
card = month.card

view.month_status(ctx, month)
if empty_month(ctx, card):
    st.stop()
prefetch_targets(ctx)  # computes while the consequences and the twelve months draw
view.two_columns(card, prev, prev_month)
in_order(
    ("the consequences", lambda: consequences_view.month(closed_month.consequences(ctx, month))),
    ("twelve months of every commitment", lambda: view.commitments(closed_month.trend_cards(ctx, month))),
    ("next month's targets", lambda: next_month_targets(ctx, card)),
    ("the review queue", lambda: exclusions_view.review_queue(ctx)),
    ("the notes and the report", lambda: view.notes_and_report(ctx, {**card, "closed": month.closed})),
)
