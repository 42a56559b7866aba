"""Reference data: the real regions and offices of GATE's navigation (offices.json)."""

from __future__ import annotations

from django.db import transaction

from gateformat.vocab import reference_offices

from ..models import Office, OfficeType, Region
from .importer import OFFICE_TYPE_NAMES

HQ_SECTION = "Evaluations by HQs"
HQ_REGION = "Headquarters"


@transaction.atomic
def load_offices() -> tuple[int, int]:
    """Create the regions and offices that are missing; (regions added, offices added). Idempotent."""
    data = reference_offices()
    types = {t.code: t for t in OfficeType.objects.all()}

    def office_type(code: str) -> OfficeType:
        if code not in types:
            types[code], _ = OfficeType.objects.get_or_create(code=code, defaults={"name": OFFICE_TYPE_NAMES.get(code, code)})
        return types[code]

    regions_added = offices_added = 0
    rows = []
    for position, (section, offices) in enumerate(data["regions"].items()):
        region_name = HQ_REGION if section == HQ_SECTION else section
        for o in offices:
            rows.append((o["office"], o.get("type") or ("HQ" if section == HQ_SECTION else "CO"), region_name, position))
    for o in data.get("offices_in_headers_not_in_menus", []):
        region = o.get("likely_region") or ""
        rows.append((o["office"], o["type"], HQ_REGION if region == HQ_SECTION else region, 99))
    regions: dict[str, Region] = {}
    for name, code, region_name, position in rows:
        if region_name and region_name not in regions:
            regions[region_name], created = Region.objects.get_or_create(name=region_name, defaults={"position": position})
            regions_added += created
        _, created = Office.objects.get_or_create(
            name=name, defaults={"type": office_type(code), "region": regions.get(region_name)}
        )
        offices_added += created
    return regions_added, offices_added
