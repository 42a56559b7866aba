"""Responsible texts cut into the units they name."""

from __future__ import annotations

import pytest

from tests.tracking.factories import make_office
from tracking.models import Unit
from tracking.services.units import Fragment, UnitDirectory, fragments


@pytest.mark.parametrize(
    "text,names",
    [
        (
            "SPD/Civil Society Section (CSS)/Policy Division/Regional Offices/Intergovernm ental Support Division (IGSD)",
            ["SPD", "Civil Society Section", "Policy Division", "Regional Offices", "Intergovernm ental Support Division"],
        ),
        ("SPD, CSS, Policy Division, Regional Offices", ["SPD", "CSS", "Policy Division", "Regional Offices"]),
        ("PPID/Peace, Security and Resilience Unit and Civil Society Division",
         ["PPID", "Peace, Security and Resilience Unit", "Civil Society Division"]),
        ("EDO in collaboration with UN Coordination Division", ["EDO", "UN Coordination Division"]),
        ("Regional and Country Offices, WPHF Secretariat", ["Regional and Country Offices", "WPHF Secretariat"]),
        ("SPD/DMA/ other sections and divisions as well, such as CSS, Policy", ["SPD", "DMA", "CSS", "Policy"]),
        ("Country Offices in conflict settings", ["Country Offices"]),
        ("IOM with support from UN Women", ["IOM", "UN Women"]),
        ("Monitoring and Evaluation Unit", ["Monitoring and Evaluation Unit"]),
        ("", []),
    ],
)
def test_fragments(text, names):
    assert [f.name for f in fragments(text)] == names


def test_bracketed_acronym_is_kept_as_the_acronym():
    assert fragments("Civil Society Section (CSS)") == [Fragment("Civil Society Section", "CSS")]


@pytest.mark.django_db
def test_directory_prefers_the_evaluation_office_then_corporate_units():
    kenya = make_office("Kenya", "CO")
    uganda = make_office("Uganda", "CO")
    hq = make_office("Policy Division Office", "HQ", region=None)
    Unit.objects.create(office=uganda, name="Programme Unit")
    spd = Unit.objects.create(office=hq, name="Strategic Partnerships Division", acronym="SPD")
    directory = UnitDirectory()
    units, created = directory.resolve("SPD/Programme Unit", kenya)
    # SPD is corporate: found from anywhere. Uganda's Programme Unit is not Kenya's: a new one is made.
    assert units[0] == spd
    assert units[1].office == kenya and units[1].name == "Programme Unit"
    assert created == [units[1]]
    again, created_again = directory.resolve("Programme Unit", kenya)
    assert again == [units[1]] and created_again == []
