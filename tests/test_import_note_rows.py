"""Notes under a table (`※ 実績は速報値`, `（注）…`) are left out with a notice, not read as
rows missing their branch and year."""

import pytest

from kpis.models import Kpi
from tests.factories_imports import kpi_row, load, problems, xlsx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "note", ["※ 実績は令和6年3月末時点の速報値である。", "（注）速報値", "注1：速報値"]
)
def test_a_note_row_under_the_table_is_left_out_with_a_notice(note):
    batch = load(xlsx([kpi_row(), [], [note]]))

    assert Kpi.objects.count() == 1
    assert "シート「KPI」の注記の行（1行）は読み飛ばしました。" in batch.notices


def test_a_row_with_more_than_the_note_is_read_as_a_row():
    assert problems(xlsx([kpi_row(), ["※ 速報値", "令和5年度"]]))[0].startswith(
        "KPI!A3: 支部「※ 速報値」"
    )
