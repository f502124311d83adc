"""Sales: the overdue worklist, the leads due soon, per rep and per team, response times against the target."""

import streamlit as st

from smarketing.ui import closed_month, scorecard_view, setup_page
from smarketing.ui import sales_view as view
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
    view.drill_links(ctx, bundle)
    view.worklist(ctx, bundle)
    view.due_soon(ctx, bundle)
    view.reps(ctx, bundle, card)
    view.teams(ctx)
    view.response_distribution(bundle)
    view.delays(card)
