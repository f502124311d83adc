"""Terms: the versions in force, the reverse-funnel calculator, a new version from a month on, the consequences settings."""

from smarketing.ui import setup_page
from smarketing.ui import terms_view as view

ctx = setup_page("Terms", ":material/handshake:")
terms = ctx.terms
view.versions(ctx)
view.schedules(terms)
view.calculator(ctx, terms)
view.monthly_form(ctx, terms)
view.editor(ctx, terms)
view.consequences_editor(ctx, terms)
