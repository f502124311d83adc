"""Data: where the data came from, row counts, file import with a preview, demo data, and who can see it."""

from smarketing.ui import data_view as view
from smarketing.ui import setup_page
from smarketing.ui.hubspot_panel import sync_now

ctx = setup_page("Data", ":material/database:")
view.overview(ctx)
view.loads(ctx)

sync_now(ctx)
view.upload(ctx)
view.remove_demo(ctx)
view.access(ctx)
