"""Whatever the cells hold, the importer answers with problems or a plan, never an
exception (no 500 page for any file)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports import pipeline
from imports.reading import UnreadableFile, read_workbook
from tests.factories_imports import KPI_HEADER, MONTHLY_HEADER, csv_bytes, kpi_row

pytestmark = pytest.mark.django_db

cell = st.one_of(
    st.sampled_from(["", "11", "R5", "(1)", "①", "96.5%以上", "△", "△5", "—", "高", "○", "=1+1"]),
    st.text(
        alphabet="0123456789%,.()（）△▲-+:位円件以上以下対前年度年令和RＦＹ高〇◎×✕ ", max_size=12
    ),
    st.text(max_size=8),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(cell, min_size=len(KPI_HEADER), max_size=len(KPI_HEADER)), max_size=4)
)
def test_any_kpi_cells(rows):
    analysis = pipeline.analyse(csv_bytes([kpi_row(), *rows]), "fuzz.csv")
    assert all(str(problem) for problem in analysis.problems)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(cell, min_size=16, max_size=16), max_size=4))
def test_any_monthly_cells(rows):
    analysis = pipeline.analyse(csv_bytes(rows, header=MONTHLY_HEADER), "fuzz.csv")
    assert all(str(problem) for problem in analysis.problems)


@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=2000))
def test_any_bytes(content):
    try:
        read_workbook(content, "fuzz.bin")
    except UnreadableFile as error:
        assert str(error)
