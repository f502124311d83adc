"""Marketing: drill-down by segment and source, daily MQLs and the 12-month trend against quota."""

import streamlit as st

from smarketing.ui import closed_month, setup_page
from smarketing.ui import marketing_view as view
from smarketing.ui.components import in_order
from smarketing.ui.context import empty_month

ctx = setup_page("Marketing", ":material/campaign:", filters=True)
month = closed_month.shown(ctx, live_below=view.LIVE_PARTS)
card = month.card
if empty_month(ctx, card):
    st.stop()
view.headline(card)
shown, daily = view.filtered(ctx, card)
in_order(
    ("the segments", lambda: view.segments(ctx, shown)),
    ("the rejections", lambda: view.rejections(shown)),
    ("the sources and days", lambda: view.drill_down(ctx, card, shown, daily)),
    ("the twelve months", lambda: view.trend(ctx, month)),
)
