"""Trends: twelve months of both sides, met/missed history, runs of misses and the weighted scores."""

from smarketing.core.lead_filter import describe
from smarketing.ui import setup_page
from smarketing.ui import trends_view as view
from smarketing.ui.loaders import consequences, filtered_trend_cards, trend_cards

ctx = setup_page("Trends", ":material/monitoring:", filters=True)
cards = trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month)
leads = None
if cards and ctx.leads.scoped:
    view.filtered_note(describe(ctx.leads.scope(), ctx.owner_names()), ctx.leads.scope().one_segment)
    leads = filtered_trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month, ctx.scope_key)
    view.filtered_months(leads)
if cards:
    view.history(cards)
    view.scores(consequences(ctx.url, ctx.month, ctx.as_of_iso, ctx.token))
    view.charts_grid(cards, leads)
else:
    view.no_history()
