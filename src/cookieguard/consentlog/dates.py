"""Dates and ages as the ``cookieguard consents`` options take them: ``2026-01-31``, ``30d``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .record import utc

__all__ = ["months_before", "parse_moment"]

_AGE = re.compile(r"(\d+)\s*(d|days?|w|weeks?|m|months?|y|years?)", re.IGNORECASE)


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` moved back by calendar months (31 March - 1 month = 28/29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """An ISO date or time (UTC unless it says otherwise), or an age: ``30d``, ``6m``, ``1y``."""
    now = now or datetime.now(timezone.utc)
    age = _AGE.fullmatch(text.strip())
    if age is not None:
        amount, unit = int(age.group(1)), age.group(2)[0].lower()
        if unit == "d":
            return now - timedelta(days=amount)
        if unit == "w":
            return now - timedelta(weeks=amount)
        return months_before(now, amount * (12 if unit == "y" else 1))
    try:
        return utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date (2026-01-31) nor an age (30d, 6m, 1y)"
        ) from None
