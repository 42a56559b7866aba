"""Months, the one home of their reading and writing: deadlines have month precision.

A page writes a deadline as "2018/12" (or "2018-12", "2018.12", "2018 / 12");
a `Document` holds "2018-12"; a database stores the first of the month.
"""

from __future__ import annotations

import datetime as dt
import re

# In running text (a key action row): not inside a longer number or a date.
MONTH_IN_TEXT = re.compile(r"(?<![\d/])(?P<y>(?:19|20)\d{2})\s?[/\-.]\s?(?P<m>\d{1,2})(?![\d/])")


def month_key(match: re.Match[str]) -> str | None:
    """"2018-12" from a `MONTH_IN_TEXT` match; None when the month is not 1 to 12."""
    month = int(match["m"])
    if not 1 <= month <= 12:
        return None
    return f"{match['y']}-{month:02d}"


def read_month(text: str) -> str | None:
    """"2018-12" from a whole value ("2018/12", "2018-12", "2018.12"); None if it is not a month."""
    m = MONTH_IN_TEXT.fullmatch(text.strip())
    return month_key(m) if m else None


def month_date(value: str) -> dt.date | None:
    """The first day of a month given as "2018-12" or "2018/12" (a day after it is ignored); None for ""."""
    if not value:
        return None
    year, month = value.replace("/", "-").split("-")[:2]
    return dt.date(int(year), int(month), 1)


def month_text(day: dt.date | None) -> str:
    """"2018-12" for a date in December 2018; "" for None."""
    return day.strftime("%Y-%m") if day else ""
