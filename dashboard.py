"""smarketing — Home: the two-sided scorecard of one month (`streamlit run dashboard.py`)."""

import streamlit as st

from smarketing.ui import closed_month, setup_page
from smarketing.ui import scorecard_view as view
from smarketing.ui.components import in_order
from smarketing.ui.context import empty_month
from smarketing.ui.loaders import prefetch_trends, previous_month, snapshot
from smarketing.ui.targets_panel import next_month_targets, prefetch_targets

ctx = setup_page("Scorecard")
bundle = ctx.bundle()
card = closed_month.shown(ctx).card
prev_month = previous_month(ctx.month)
prev = snapshot(ctx.url, prev_month, ctx.token) or ctx.bundle(prev_month).card
prev_label = view.previous_label(prev_month)
prefetch_targets(ctx)  # after the reads the headline needs: it computes while the page draws

view.header_line(ctx, bundle, card)
if empty_month(ctx, card):
    st.stop()
view.last_month_glance(prev, prev_month)
marketing, strip, sales = st.columns([5, 2.3, 5])
with marketing:
    view.marketing_card(card, prev, prev_label)
with strip:
    view.revenue_strip(card, prev, prev_label)
with sales:
    view.sales_card(card, prev, prev_label)

in_order(
    ("the pace and the rep leaderboard", lambda: view.details(ctx, bundle, card)),
    ("next month's targets", lambda: next_month_targets(ctx, card)),
)

prefetch_trends(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month)
