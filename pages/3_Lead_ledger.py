"""Lead ledger: look a lead up and see its clock, each touch and whether it counted and why."""

from smarketing.ui import ledger_page as view
from smarketing.ui import setup_page

ctx = setup_page("Lead ledger", ":material/receipt_long:")
bundle = ctx.bundle()
lead_id = view.browse(ctx, bundle)
if lead_id:
    view.lead_detail(ctx, bundle, lead_id)
elif not bundle.ledger.empty:
    view.pick_hint()
