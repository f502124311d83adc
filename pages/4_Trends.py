"""Trends: twelve months of both sides, met/missed history and runs of misses."""

from smarketing.ui import setup_page
from smarketing.ui import trends_view as view
from smarketing.ui.loaders import trend_cards

ctx = setup_page("Trends", ":material/monitoring:")
cards = trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month)
if cards:
    view.history(cards)
    view.charts_grid(cards)
else:
    view.no_history()
