"""The demo's office head, whom escalations reach after the office focal point (made once)."""

from __future__ import annotations

from tracking.models import Office

from .models import OfficeHead


def load_demo_office_head(office_name: str, address: str = "head@example.org") -> bool:
    office = Office.objects.filter(name=office_name).first()
    if office is None:
        return False
    _, created = OfficeHead.objects.get_or_create(office=office, defaults={"address": address})
    return created
