"""The demo's yearly indicators (filled by head office at year end) are not reported
monthly, so the entry progress never counts them as missing months."""

import pytest

from imports.management.commands.load_demo import YEARLY_INDICATORS
from kpis.models import Indicator, MonthlyValue

pytestmark = pytest.mark.django_db


def test_the_demos_yearly_indicators_are_not_reported_monthly(demo):
    yearly = set(Indicator.objects.filter(reported_monthly=False).values_list("name", flat=True))

    assert yearly == set(YEARLY_INDICATORS)
    # Every indicator the demo has months for is a monthly one.
    assert not MonthlyValue.objects.filter(kpi__indicator__reported_monthly=False).exists()


def test_gunma_progress_counts_its_monthly_kpis_only(demo, client, admin):
    client.force_login(admin)

    html = client.get("/progress/?year=2023").content.decode()

    row = html[html.index("群馬支部") :]
    row = row[: row.index("</tr>")]
    # 20 KPIs in 令和5年度, 9 of them yearly (健診・保健指導, 一者応札, 健康保険委員)
    assert "/ 11<" in row and "/ 20" not in row
