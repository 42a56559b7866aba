"""Months, read and written in one place: the page, the document, the database and the forms agree."""

from __future__ import annotations

import datetime as dt

import pytest

from gateformat.months import month_date, month_text, read_month


@pytest.mark.parametrize("text", ["2018/12", "2018-12", "2018.12", "2018 / 12", " 2018/12 "])
def test_the_ways_a_page_writes_a_month(text):
    assert read_month(text) == "2018-12"


@pytest.mark.parametrize("text", ["2018/13", "2018/00", "18/12", "2018/12/01", "December 2018", ""])
def test_what_is_not_a_month(text):
    assert read_month(text) is None


def test_stored_as_the_first_of_the_month_and_written_back():
    assert month_date("2018-12") == dt.date(2018, 12, 1)
    assert month_date("2018/02") == dt.date(2018, 2, 1)
    assert month_date("") is None
    assert month_text(dt.date(2018, 12, 1)) == "2018-12"
    assert month_text(None) == ""


def test_the_deadline_field_of_the_forms_reads_months_the_same_way():
    from web.forms import MonthField

    field = MonthField(required=False)
    assert field.clean("2024/03") == dt.date(2024, 3, 1)
    assert field.clean("2024-03") == dt.date(2024, 3, 1)
    with pytest.raises(Exception, match="YYYY-MM"):
        field.clean("2024-13")
    assert field.prepare_value(dt.date(2024, 3, 1)) == "2024-03"
