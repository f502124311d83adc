"""Executive review: the monthly alignment meeting — the month's two columns (frozen once closed),
twelve months of every commitment with strikes, next month's targets, the notes and the report."""

from smarketing.ui import exclusions_view, setup_page
from smarketing.ui import review_view as view
from smarketing.ui.loaders import trend_cards
from smarketing.ui.targets_panel import next_month_targets

chosen = view.month_was_chosen()
ctx = setup_page("Executive review", ":material/groups:")
view.steer_to_last_full_month(ctx, chosen)
card, prev, prev_month = view.review_cards(ctx)

view.month_status(ctx, card)
view.two_columns(card, prev, prev_month)
view.commitments(trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month))
next_month_targets(ctx, card)
exclusions_view.review_queue(ctx)
view.notes_and_report(ctx, card)
