"""Opening the next fiscal year (年度更新): each branch's draft plan for the new year, carried
forward from its plan of the year just ended.

The carried plan is written as a KPI workbook in the import format and goes through the
import pipeline like any workbook: the same checks, the same write path (versions, history,
evaluation of relative targets against the carried 前年度実績), the same preview → confirm,
and the same undo, which is refused once anything was entered under what it created.

What is carried: pillars, measures (number, title, group, 重要度・困難度 and their reasons,
plan text), activities (number, 対象, text) and KPIs (indicator, description, activity
number, 対象) with 前年度実績 = the stored actual of the year just ended. What starts blank:
actuals, marks, 達成, national figures, the branch's report texts (実施状況, 課題, 備考) and
tags such as 【新設】, which describe the year just ended. Targets start blank for the branch
to set, or are kept by choice.

A branch that already has measures or KPIs in the new year is left out, so running the
rollover twice creates nothing twice and never overwrites what a branch has started.
"""

import io
from collections import Counter
from dataclasses import dataclass

from branches.models import Branch
from imports import pipeline
from imports.models import ImportBatch
from kpis import eras
from kpis.exports import INDICATOR_HEADER, KPI_HEADER, indicator_rows, kpi_rows, write_xlsx
from kpis.models import Activity, FiscalYear, Kpi, Measure
from kpis.vocabulary import KPI_LABELS

COLUMNS = list(KPI_LABELS)
# Texts of the year just ended that a new year's plan starts without.
CLEARED = (
    "actual",
    "achieved",
    "mark",
    "mark_source",
    "national_average",
    "national_rank",
    "mark_reason",
    "note",
    "challenges",
    "narrative",
    "tags",
)


class RolloverRefused(Exception):
    """The rollover cannot start; the message says why, in Japanese."""


@dataclass(frozen=True)
class BranchCarry:
    """What the rollover would create for one branch."""

    branch: Branch
    measures: int
    activities: int
    kpis: int


def source_year(to_year: int) -> FiscalYear:
    """The year the new one is carried from: the year just before it."""
    source = FiscalYear.objects.filter(start_year=to_year - 1).first()
    if source is None:
        raise RolloverRefused(
            f"{eras.era_label(to_year - 1)}の計画が登録されていないため、"
            f"{eras.era_label(to_year)}を前年度から作成できません。"
        )
    return source


def carried_branches(to_year: int) -> list[BranchCarry]:
    """Per branch, the counts the rollover would create (branches with a plan for the year
    just ended and nothing yet in the new one)."""
    source = source_year(to_year)
    started = _started_branches(to_year)
    measures = Counter(
        Measure.objects.filter(fiscal_year=source).values_list("branch_id", flat=True)
    )
    activities = Counter(
        Activity.objects.filter(measure__fiscal_year=source).values_list(
            "measure__branch_id", flat=True
        )
    )
    kpis = Counter(Kpi.objects.filter(fiscal_year=source).values_list("branch_id", flat=True))
    return [
        BranchCarry(branch, measures[branch.pk], activities[branch.pk], kpis[branch.pk])
        for branch in Branch.objects.filter(pk__in=measures).exclude(pk__in=started)
    ]


def _started_branches(to_year: int) -> set[int]:
    measures = Measure.objects.filter(fiscal_year__start_year=to_year)
    kpis = Kpi.objects.filter(fiscal_year__start_year=to_year)
    return set(measures.values_list("branch_id", flat=True)) | set(
        kpis.values_list("branch_id", flat=True)
    )


def workbook(to_year: int, *, keep_targets: bool = False) -> bytes:
    """The carried plans of every branch not yet started in `to_year`, as a KPI workbook."""
    source = source_year(to_year)
    started = _started_branches(to_year)
    kpis = Kpi.objects.filter(fiscal_year=source).exclude(branch__in=started)
    activities = Activity.objects.filter(measure__fiscal_year=source).exclude(
        measure__branch__in=started
    )
    measures = Measure.objects.filter(fiscal_year=source).exclude(branch__in=started)
    rows = [_carried(row, to_year, keep_targets) for row in kpi_rows(kpis, activities, measures)]
    if not rows:
        raise RolloverRefused(
            f"{eras.era_label(to_year)}の計画を作成する支部はありません"
            "（すべての支部に作成済みか、前年度の計画がありません）。"
        )
    output = io.BytesIO()
    write_xlsx(
        output, [("KPI", KPI_HEADER, rows), ("指標", INDICATOR_HEADER, indicator_rows(kpis))]
    )
    return output.getvalue()


def _carried(row: list, to_year: int, keep_targets: bool) -> list:
    values = dict(zip(COLUMNS, row, strict=True))
    if values["indicator"]:
        values["previous_actual"] = values["actual"]
        if not keep_targets:
            values["target"] = ""
    for name in CLEARED:
        values[name] = ""
    values["fiscal_year"] = to_year
    return [values[name] for name in COLUMNS]


def file_name(to_year: int) -> str:
    return f"年度更新_{eras.era_label(to_year)}.xlsx"


def preview(to_year: int, user, *, keep_targets: bool = False) -> ImportBatch:
    """The rollover as an import preview (the import's confirm and undo pages take it)."""
    return pipeline.preview(workbook(to_year, keep_targets=keep_targets), file_name(to_year), user)


def open_fiscal_year(to_year: int, user=None, *, keep_targets=False, confirm_warnings=False):
    """The command's path: (batch or None, analysis), written at once when valid."""
    content = workbook(to_year, keep_targets=keep_targets)
    return pipeline.import_file(
        content, file_name(to_year), user, confirm_warnings=confirm_warnings
    )
