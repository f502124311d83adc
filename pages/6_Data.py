"""Data: where the data came from, row counts, file upload, and who can see it."""

from smarketing.ui import data_view as view
from smarketing.ui import setup_page

ctx = setup_page("Data", ":material/database:")
view.overview(ctx)
view.loads(ctx)

# ── SLOT: "Sync now" (HubSpot) ───────────────────────────────────────────────────────────
# Reserved for the HubSpot sync section (DESIGN section 2: token status, last cursor per
# object type, a "Sync now" button). Another engineer builds it; render it here, e.g.
#     from smarketing.ui.hubspot_panel import sync_now
#     sync_now(ctx)
# ─────────────────────────────────────────────────────────────────────────────────────────

view.upload(ctx)
view.access(ctx)
