"""A grid save refused because of the plan's state (提出済) says so as a state: it does not
ask the person to correct their input."""

import pytest

from kpis.entry import services
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


def test_a_submitted_plan_is_said_plainly(client, staff_11, manager_11):
    rate = fe.kpi(name="特定健診実施率", unit="%")
    data = fe.grid_data([rate], {(rate, 4): "90%"})
    services.transition(
        services.entry_scope(manager_11, rate.branch, rate.fiscal_year, None), "submit"
    )
    client.force_login(staff_11)
    response = client.post(fe.grid_url(), data)
    html = response.content.decode()
    assert response.status_code == 403
    assert "<strong>保存していません。</strong>提出済みのため変更できません。" in html
    assert "次の点を直して" not in html
    assert 'value="90%"' in html
