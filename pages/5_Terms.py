"""Terms: the versions in force, a new version from a month on, the reverse-funnel calculator."""

from smarketing.ui import setup_page
from smarketing.ui import terms_view as view

ctx = setup_page("Terms", ":material/handshake:")
terms = ctx.bundle().terms
view.versions(ctx)
view.schedules(terms)
view.calculator(ctx, terms)
view.editor(ctx, terms)
