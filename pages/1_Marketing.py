"""Marketing: drill-down by segment and source, daily MQLs and the 12-month trend against quota."""

import streamlit as st

from smarketing.ui import closed_month, setup_page
from smarketing.ui import marketing_view as view
from smarketing.ui.context import empty_month

ctx = setup_page("Marketing", ":material/campaign:", filters=True)
month = closed_month.shown(ctx, live_below=view.LIVE_PARTS)
card = month.card
if empty_month(ctx, card):
    st.stop()
view.headline(card)
view.segments(ctx, card)
view.rejections(card)
view.drill_down(ctx, card)
view.trend(ctx, closed_month.trend_cards(ctx, month))
