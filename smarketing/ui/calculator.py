"""The reverse-funnel calculator of the Terms page (DESIGN section 6, one segment, user inputs)."""

from __future__ import annotations

import math


def reverse_funnel(
    revenue_goal: float, marketing_share: float, avg_deal_size: float, lead_to_customer_rate: float
) -> dict[str, float | int | None]:
    """Revenue goal × marketing share → customers needed → MQLs needed (None where undefined)."""
    marketing_revenue = revenue_goal * marketing_share
    customers = marketing_revenue / avg_deal_size if avg_deal_size > 0 else None
    mqls = (
        math.ceil(customers / lead_to_customer_rate - 1e-9)
        if customers is not None and lead_to_customer_rate > 0
        else None
    )
    return {"marketing_revenue": marketing_revenue, "customers_needed": customers, "mqls_needed": mqls}
