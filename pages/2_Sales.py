"""Sales: the overdue worklist, the leads due soon, per rep and per team, response times against the target."""

import streamlit as st

from smarketing.ui import sales_view as view
from smarketing.ui import scorecard_view, setup_page
from smarketing.ui.context import empty_month
from smarketing.ui.loaders import previous_month

ctx = setup_page("Sales", ":material/support_agent:", filters=True)
bundle = ctx.bundle()
if empty_month(ctx, bundle.card):
    st.stop()
prev_month = previous_month(ctx.month)
view.headline(bundle.card, ctx.bundle(prev_month).card, scorecard_view.previous_label(prev_month))
if view.measurable(bundle.card):
    view.drill_links(ctx, bundle)
    view.worklist(ctx, bundle)
    view.due_soon(ctx, bundle)
    view.reps(ctx, bundle)
    view.teams(ctx)
    view.response_distribution(bundle)
    view.delays(bundle.card)
