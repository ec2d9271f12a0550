"""Forms of the entry pages. They only collect what was typed; kpis.entry.services decides
whether it may be saved."""

from dataclasses import dataclass

from django import forms

from branches.models import Branch
from kpis.entry import services
from kpis.eras import FISCAL_MONTHS
from kpis.models import FiscalYear, Kpi, Mark, MonthlyValue
from kpis.summary import outlook_view

BROKEN_FORM = "フォームの内容が古いか壊れています。ページを再読み込みしてから入力し直してください。"


@dataclass(frozen=True)
class GridRow:
    """One KPI on the grid: its values in its series, by calendar month."""

    kpi: Kpi
    values: dict[int, MonthlyValue]

    @property
    def ytd(self) -> services.YearToDate:
        return services.year_to_date(self.kpi, self.values)

    @property
    def series_label(self) -> str:
        return services.series_label(self.kpi.indicator)

    @property
    def outlook(self):
        """The year-end outlook the write path stored (着地見込み), or None."""
        return outlook_view(self.kpi)

    def version(self, month: int) -> int:
        value = self.values.get(month)
        return value.version if value else 0


def cell_field(kpi_id: int, month: int) -> str:
    return f"c{kpi_id}_{month}"


def versions_field(kpi_id: int) -> str:
    return f"v{kpi_id}"


class GridForm(forms.Form):
    """The whole grid: one text input per KPI × month, and per KPI one hidden field with the
    twelve versions the form was shown with (one field per row keeps the POST small)."""

    reason = forms.CharField(
        label="修正理由（入力締切後の修正に必要）", required=False, max_length=200
    )
    # Shown once a save found warnings (a rate above 100 %, …): ticking it saves anyway.
    confirm_warnings = forms.BooleanField(label="警告を確認して保存する", required=False)

    def __init__(self, rows: list[GridRow], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            pk = row.kpi.pk
            versions = ",".join(str(row.version(month)) for month in FISCAL_MONTHS)
            self.fields[versions_field(pk)] = forms.CharField(
                widget=forms.HiddenInput, required=False, initial=versions
            )
            for month in FISCAL_MONTHS:
                value = row.values.get(month)
                self.fields[cell_field(pk, month)] = forms.CharField(
                    label=services.cell_label(row.kpi, month),
                    required=False,
                    strip=False,
                    initial=value.text if value else "",
                )

    def clean(self):
        cleaned = super().clean()
        self.seen_versions = {}
        for row in self.rows:
            versions = _versions(cleaned.get(versions_field(row.kpi.pk), ""))
            if versions is None:
                raise forms.ValidationError(BROKEN_FORM)
            self.seen_versions[row.kpi.pk] = versions
        return cleaned

    def edits(self) -> list[services.CellEdit]:
        return [
            services.CellEdit(
                kpi=row.kpi,
                month=month,
                text=self.cleaned_data.get(cell_field(row.kpi.pk, month)) or "",
                seen_version=self.seen_versions[row.kpi.pk][month],
            )
            for row in self.rows
            for month in FISCAL_MONTHS
        ]

    def problem_messages(self) -> list[str]:
        """Every error, each naming its cell (KPI and month)."""
        messages = list(self.non_field_errors())
        for name, errors in self.errors.items():
            if name in self.fields and name not in ("reason", "confirm_warnings"):
                messages += [f"{self.fields[name].label}: {error}" for error in errors]
            elif name == "reason":
                messages += [f"修正理由: {error}" for error in errors]
        return messages

    def add_problems(self, problems: list[services.Problem]) -> None:
        for problem in problems:
            self.add_error(cell_field(problem.kpi_id, problem.month), problem.detail)


def data_after_conflicts(data, rows: list[GridRow], problems: list[services.Problem]):
    """The posted data with the current versions of the conflicting cells: the person has
    now seen the other value, so saving again deliberately replaces it. Cells without a
    conflict keep the versions they were shown with."""
    data = data.copy()
    current = {row.kpi.pk: row for row in rows}
    for problem in problems:
        row = current.get(problem.kpi_id)
        name = versions_field(problem.kpi_id)
        versions = _versions(data.get(name, ""))
        if not problem.conflict or row is None or versions is None:
            continue
        versions[problem.month] = row.version(problem.month)
        data[name] = ",".join(str(versions[month]) for month in FISCAL_MONTHS)
    return data


def _versions(text: str) -> dict[int, int] | None:
    parts = text.split(",")
    if len(parts) != len(FISCAL_MONTHS) or not all(part.isdigit() for part in parts):
        return None
    return dict(zip(FISCAL_MONTHS, (int(part) for part in parts), strict=True))


class CellForm(forms.Form):
    text = forms.CharField(label="値", required=False, strip=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason = forms.CharField(
        label="修正理由（入力締切後の修正に必要）", required=False, max_length=200
    )
    # Shown once a save found warnings (a rate above 100 %, …): ticking it saves anyway.
    confirm_warnings = forms.BooleanField(label="警告を確認して保存する", required=False)


class GridCellForm(CellForm):
    """One cell of the grid, sent by the grid's script when the person leaves the cell."""

    kpi = forms.IntegerField(min_value=1)
    month = forms.TypedChoiceField(choices=[(m, m) for m in FISCAL_MONTHS], coerce=int)


class CommentForm(forms.Form):
    body = forms.CharField(
        label="コメント",
        max_length=services.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "コメントを入力してください。"},
    )


class StampForm(forms.Form):
    """Carries the KPI's history stamp so that a stale page cannot overwrite a newer change."""

    stamp = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class MarkForm(StampForm):
    mark = forms.ChoiceField(label="結果", choices=Mark.choices)
    reason = forms.CharField(
        label="理由（必須）",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={"required": "結果を手動で設定する理由を入力してください。"},
    )


class TransitionForm(forms.Form):
    reason = forms.CharField(
        label="理由",
        required=False,
        max_length=services.MAX_TRANSITION_REASON,
        error_messages={
            "max_length": "理由は%(limit_value)d文字以内で入力してください"
            "（入力は%(show_value)d文字です）。操作はしていません。"
        },
    )


class ChooserForm(forms.Form):
    """Head office picks a branch and a fiscal year."""

    branch = forms.ModelChoiceField(
        label="支部", queryset=Branch.objects.all(), to_field_name="code", empty_label=None
    )
    year = forms.ModelChoiceField(
        label="年度",
        queryset=FiscalYear.objects.all(),
        to_field_name="start_year",
        empty_label=None,
    )
