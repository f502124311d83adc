"""The range every stored value lives in, whichever source it comes from.

Instants are kept to the years 1900 to 2199: pandas' nanosecond range ends in 2262, and
deadlines add business days to a clock start, so a year like 9999 (or 0001) in a file
would otherwise end in an overflow far from the cell that caused it. Amounts are finite,
not negative and below a quadrillion, so revenue sums are numbers JSON can carry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EARLIEST = pd.Timestamp("1900-01-01", tz="UTC")
LATEST = pd.Timestamp("2200-01-01", tz="UTC")  # exclusive
YEARS = "the years 1900 to 2199"
MAX_AMOUNT = 1e15
AMOUNTS = "a number from 0 to 1,000,000,000,000,000"


def instants_outside(values: pd.Series) -> pd.Series:
    """True where an instant (aware, or naive local wall clock) lies outside the years 1900-2199."""
    low, high = EARLIEST, LATEST
    if getattr(values.dt, "tz", None) is None:
        low, high = low.tz_localize(None), high.tz_localize(None)
    return values.notna() & ((values < low) | (values >= high))


def bounded_instants(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Instants at nanosecond precision with those outside the range emptied, and the mask of those."""
    outside = instants_outside(values)
    kept = values.mask(outside)
    return kept.dt.as_unit("ns"), outside


def amounts_outside(values: pd.Series) -> pd.Series:
    """True where an amount is infinite, negative or above MAX_AMOUNT (NaN is an unknown amount, fine)."""
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isnan(numbers) & (~np.isfinite(numbers) | (numbers < 0) | (numbers > MAX_AMOUNT))
    return pd.Series(bad, index=values.index)
