"""Lead ledger: look a lead up and see its clock, each touch and whether it counted and why."""

from smarketing.ui import closed_month, exclusions_view, setup_page
from smarketing.ui import ledger_page as view

ctx = setup_page("Lead ledger", ":material/receipt_long:", filters=True)
bundle = ctx.bundle()
month = closed_month.shown(ctx, live_below=view.LIVE_PARTS)
if month.closed:
    view.month_numbers(month.card)
lead_id = view.browse(ctx, bundle)
if lead_id:
    if view.lead_detail(ctx, bundle, lead_id):
        exclusions_view.lead_disputes(ctx, lead_id)
elif not bundle.ledger.empty:
    view.pick_hint()
