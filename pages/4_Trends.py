"""Trends: twelve months of both sides, met/missed history, runs of misses and the weighted scores."""

from smarketing.ui import closed_month, setup_page
from smarketing.ui import trends_view as view

ctx = setup_page("Trends", ":material/monitoring:")
month = closed_month.shown(ctx)
cards = closed_month.trend_cards(ctx, month)
if cards:
    view.history(cards)
    view.scores(closed_month.consequences(ctx, month))
    view.charts_grid(cards)
else:
    view.no_history()
