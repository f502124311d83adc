"""Trends: twelve months of both sides, met/missed history, runs of misses and the weighted scores."""

from smarketing.ui import setup_page
from smarketing.ui import trends_view as view
from smarketing.ui.loaders import consequences, trend_cards

ctx = setup_page("Trends", ":material/monitoring:")
cards = trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month)
if cards:
    view.history(cards)
    view.scores(consequences(ctx.url, ctx.month, ctx.as_of_iso, ctx.token))
    view.charts_grid(cards)
else:
    view.no_history()
