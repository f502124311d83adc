"""Trends: twelve months of both sides, met/missed history, runs of misses and the weighted scores."""

from smarketing.ui import closed_month, setup_page
from smarketing.ui import trends_view as view

ctx = setup_page("Trends", ":material/monitoring:", filters=True)
view.page(ctx, closed_month.shown(ctx))
