"""The grid labels each row with its pillar and measure (`2-(2)`: the same measure number
exists under several pillars) and groups the rows under a heading per national pillar."""

import re

import pytest

from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


def kpi_under(pillar: int, number: int, name: str):
    kpi = fe.kpi(name=name)
    measure = kpi.measure
    measure.pillar = factories.PillarFactory(number=pillar)
    measure.number_label = f"({number})"
    measure.save()
    return kpi


def test_rows_say_pillar_and_measure_under_a_heading_per_pillar(client, staff_11):
    kpi_under(2, 2, "健診実施率")
    kpi_under(1, 2, "査定率")
    kpi_under(2, 1, "保健指導実施率")
    client.force_login(staff_11)
    html = client.get(fe.grid_url()).content.decode()
    labels = re.findall(r'<span class="row-number">([^<]+)</span>\s*<a [^>]+>([^<]+)</a>', html)
    assert labels == [("1-(2)", "査定率"), ("2-(1)", "保健指導実施率"), ("2-(2)", "健診実施率")]
    headings = re.findall(r'<span class="pillar-title">([^<]+)</span>', html)
    assert [h.split()[0] for h in headings] == ["1", "2"]
    # Each pillar's rows sit in its own group, after its heading.
    groups = html.split('<tr class="pillar-row">')[1:]
    assert ["査定率" in g for g in groups] == [True, False]
    assert all(name in groups[1] for name in ("保健指導実施率", "健診実施率"))
