"""Sales: the overdue worklist, the leads due soon, per rep and per team, response times against the target."""

import streamlit as st

from smarketing.ui import closed_month, scorecard_view, setup_page
from smarketing.ui import sales_view as view
from smarketing.ui.components import in_order
from smarketing.ui.context import empty_month
from smarketing.ui.loaders import previous_month, snapshot

ctx = setup_page("Sales", ":material/support_agent:", filters=True)
bundle = ctx.bundle()
card = closed_month.shown(ctx, live_below=view.LIVE_PARTS).card
if empty_month(ctx, card):
    st.stop()
prev_month = previous_month(ctx.month)
prev = snapshot(ctx.url, prev_month, ctx.token) or ctx.bundle(prev_month).card
view.headline(card, prev, scorecard_view.previous_label(prev_month))
if view.measurable(card):
    in_order(
        ("the counts behind the commitments", lambda: view.drill_links(ctx, bundle)),
        ("the overdue worklist", lambda: view.worklist(ctx, bundle)),
        ("the leads due soon", lambda: view.due_soon(ctx, bundle)),
        ("the rep table", lambda: view.reps(ctx, bundle, card)),
        ("the team table", lambda: view.teams(ctx)),
        ("the response times", lambda: view.response_distribution(bundle)),
        ("routing and rep delays", lambda: view.delays(card)),
    )
