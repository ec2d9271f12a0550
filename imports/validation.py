"""Step 1 of an import: every row of every sheet read into typed records, every problem
collected with its sheet, row and column. Nothing here touches the domain tables.

KPI workbook rows come in three shapes: a KPI row (KPI指標 filled; 事業内容 is the KPI's
sentence and 結果 its mark), an activity row (事業内容 without KPI指標; 結果 is the
activity's mark) and a measure-only row (事業内容 blank or "※KPIの設定なし").
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from branches.models import Branch
from imports import columns, progress_sheet
from imports.columns import normalise
from imports.headers import Layout, find_layout
from imports.problems import CellError, Problem
from imports.reading import Sheet, Workbook
from kpis.eras import era_label
from kpis.notation import parse_value
from kpis.numbering import NATIONAL_PILLARS, split_measure_number
from kpis.vocabulary import SERIES_LABELS, MarkSource

NO_KPI = re.compile(r"※?\s*KPIの?設定なし")

# Columns that only a KPI row may fill.
KPI_ONLY = (
    "unit",
    "target",
    "actual",
    "previous_actual",
    "national_average",
    "national_rank",
    "tags",
)

# A monthly-looking sheet with one of these columns holds breakdowns that support a KPI
# (counts per benefit type, say), not KPI series: imports.progress_sheet reads it.
BREAKDOWN_LABELS = {normalise("内訳"), "breakdown"}

# Measure texts that may be written on the first row only, or repeated.
MEASURE_TEXTS = (
    "group",
    "plan_text",
    "narrative",
    "challenges",
    "importance_reason",
    "difficulty_reason",
)


@dataclass
class Where:
    """A row of a sheet, for problems: `KPI!H14` given the column key."""

    sheet: str
    row: int
    letters: dict[str, str]

    def problem(self, message: str, key: str | None = None) -> Problem:
        return Problem(message, self.sheet, self.row, self.letters.get(key, "") if key else "")


@dataclass
class MeasureRecord:
    branch: Branch
    year: int
    pillar: tuple[int, str]  # (national pillar number, the branch's wording)
    number: tuple[str, str]  # (label as written, sort key)
    title: str
    fields: dict = field(default_factory=dict)
    where: Where | None = None

    @property
    def key(self):
        return (self.branch.pk, self.year, self.pillar[0], self.number[1])

    @property
    def label(self) -> str:
        return (
            f"{self.branch.name} {era_label(self.year)} 区分{self.pillar[0]} 施策{self.number[0]}"
        )


@dataclass
class ActivityRecord:
    measure: MeasureRecord
    marker: int | None
    text: str
    fields: dict
    where: Where
    number: int = 0


@dataclass
class KpiRecord:
    measure: MeasureRecord
    indicator: str
    unit: str | None
    fields: dict
    order: int
    where: Where
    # Figures of the same KPI in other years, from headers naming the year (令和4年度実績
    # in a 令和6年度 plan): {year: {"target_text" | "actual_text": text}}.
    other_years: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def key(self):
        return (self.measure.branch.pk, self.measure.year, columns.indicator_key(self.indicator))


@dataclass
class IndicatorRecord:
    name: str
    fields: dict
    where: Where


@dataclass
class MonthlyRecord:
    branch: Branch
    year: int
    indicator: str
    series: str
    values: dict[int, str]  # calendar month → text, blanks left out
    where: Where
    year_figure: str = ""  # the written 年計 / 合計 / 累計 / 平均, as written
    year_figure_label: str = ""

    @property
    def kpi_key(self):
        return (self.branch.pk, self.year, columns.indicator_key(self.indicator))


@dataclass
class Validated:
    kind: str = ""
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    measures: dict = field(default_factory=dict)  # key → MeasureRecord, in file order
    activities: list[ActivityRecord] = field(default_factory=list)
    kpis: list[KpiRecord] = field(default_factory=list)
    indicators: list[IndicatorRecord] = field(default_factory=list)
    monthly: list[MonthlyRecord] = field(default_factory=list)
    breakdowns: list[progress_sheet.BreakdownRecord] = field(default_factory=list)
    # Header cells no column answers to and no admin's choice covers (the mapping step):
    # [{"sheet", "column" (letter), "header", "signature"}].
    unmapped: list[dict] = field(default_factory=list)

    @property
    def pairs(self) -> set[tuple[Branch, int]]:
        """(branch, fiscal year) of every row: the scope the preview reports on."""
        found = {(m.branch, m.year) for m in self.measures.values()}
        return found | {(m.branch, m.year) for m in self.monthly}


# How letters name the insurer before the branch (全国健康保険協会熊本支部).
BRANCH_PREFIXES = tuple(normalise(p) for p in ("全国健康保険協会", "協会けんぽ"))


class Lookups:
    """Reference data the columns read against, loaded once per import."""

    def __init__(self):
        self.branches: dict[str, Branch] = {}
        for branch in Branch.objects.all():
            names = (branch.code, branch.name, branch.short_name, branch.prefecture)
            for name in (*names, str(int(branch.code))):
                self.branches[normalise(name)] = branch

    def branch(self, text: str) -> Branch | None:
        """`熊本`, `熊本支部`, `熊本県`, `43`, `043`, `全国健康保険協会熊本支部`, `43 熊本支部`."""
        key = normalise(text)
        for prefix in BRANCH_PREFIXES:
            key = key.removeprefix(prefix)
        if branch := self.branches.get(key) or self.branches.get(key.lstrip("0")):
            return branch
        code, name = re.match(r"(\d*)(.*)", key).groups()
        if code and name:
            by_code, by_name = self.branches.get(code.lstrip("0")), self.branches.get(name)
            return by_code if by_code is not None and by_code == by_name else None
        return None


def validate(
    workbook: Workbook, lookups: Lookups, choices: dict[str, str] | None = None
) -> Validated:
    """`choices`: an admin's answers for unknown headers (see `imports.headers.find_layout`)."""
    result = Validated()
    layouts: list[tuple[Sheet, Layout]] = []
    progress_sheets, breakdown_sheets = [], []
    for sheet in workbook.sheets:
        if sheet.hidden:
            result.notices.append(f"非表示のシート「{sheet.name}」は読み飛ばしました。")
            continue
        layout, header_problems = find_layout(sheet.rows, choices)
        if layout is None and progress_sheet.is_progress_sheet(sheet):
            progress_sheets.append(sheet)
            continue
        result.problems += [Problem(message, sheet.name) for message in header_problems]
        if layout is None:
            if not header_problems and sheet.rows:
                result.notices.append(
                    f"シート「{sheet.name}」には見出し行がないため読み飛ばしました。"
                )
            continue
        if layout.kind == "monthly" and _has_breakdown(sheet, layout):
            breakdown_sheets.append((sheet, layout))
            continue
        if layout.kind == "monthly":
            progress_sheet.claim_year_figures(layout)
        layouts.append((sheet, layout))
        result.unmapped += [
            {
                "sheet": sheet.name,
                "column": get_column_letter(index),
                "header": text,
                "signature": layout.signature,
            }
            for index, text in layout.unknown.items()
        ]

    kinds = {layout.kind for _, layout in layouts} - {"indicators"}
    kinds |= {"monthly"} if progress_sheets or breakdown_sheets else set()
    if not (layouts or progress_sheets or breakdown_sheets) and not result.problems:
        result.problems.append(
            Problem(
                "見出し行が見つかりません。1〜20行目のどこかに「支部コード」「年度」「区分」"
                "「施策番号」「施策」「KPI指標」…（月次は「支部コード」「年度」「KPI指標」"
                "「系列」「4月」…「3月」）の見出しを置いてください。"
            )
        )
    if len(kinds) > 1:
        result.problems.append(
            Problem("KPIの表と月次実績の表は、別々のファイルに分けて取り込んでください。")
        )
        return result
    result.kind = kinds.pop() if kinds else "kpi"

    kpi_builder = KpiBuilder(result)
    monthly_builder = MonthlyBuilder(result)
    indicator_builder = IndicatorBuilder(result)
    builders = {"kpi": kpi_builder, "monthly": monthly_builder, "indicators": indicator_builder}
    for sheet, layout in layouts:
        _check_structure(sheet, layout, result)
        if formulas := sheet.formula_cells - len(sheet.formulas_without_value):
            result.notices.append(
                f"シート「{sheet.name}」の数式のセル（{formulas}個）は、"
                "保存されている計算結果の値を取り込みます。"
            )
        builder = builders[layout.kind]
        for values, where in read_rows(sheet, layout, lookups, result):
            builder.add(values, where)
    for sheet in progress_sheets:
        progress_sheet.read_progress_sheet(sheet, lookups, monthly_builder, result)
    for sheet, layout in breakdown_sheets:
        progress_sheet.read_breakdown_sheet(sheet, layout, lookups, result)
    for builder in builders.values():
        builder.finish()
    return result


def _has_breakdown(sheet: Sheet, layout: Layout) -> bool:
    header = dict(sheet.rows).get(layout.header_row, ())
    return any(normalise(text) in BREAKDOWN_LABELS for text in header if text)


def _check_structure(sheet: Sheet, layout: Layout, result: Validated) -> None:
    """Merged cells and hidden rows hide values from whoever checks the sheet in Excel."""
    used = set(layout.columns)
    for min_col, min_row, max_col, max_row, reference in sorted(sheet.merged):
        if max_row < layout.header_row or not any(min_col <= c <= max_col for c in used):
            continue
        result.problems.append(
            Problem(
                f"{reference} のセルが結合されています。結合を解除し、各行に値を入れてください",
                sheet.name,
                min_row,
                get_column_letter(min_col),
            )
        )


def read_rows(
    sheet: Sheet,
    layout: Layout,
    lookups: Lookups,
    result: Validated,
    known: dict[int, columns.Column] | None = None,
    skip_notes: bool = True,
):
    """({column key: clean value}, where) for each data row without problems. `known`: the
    columns read (index → column), the layout's by default. With `skip_notes`, note rows
    (`※ 実績は速報値`) are left out, with a notice."""
    known = layout.columns if known is None else known
    letters = {column.key: get_column_letter(i) for i, column in known.items()}
    notes = 0
    # Most sheets have neither: then no cell is looked up in them (a national workbook
    # has tens of thousands of cells).
    errors, formulas = sheet.error_values, sheet.formulas_without_value
    read = {index: {} for index, column in known.items() if column.by_text}  # text → value
    for row_number, texts in sheet.rows:
        if row_number <= layout.header_row:
            continue
        cells = {i: (texts[i - 1] if i <= len(texts) else "") for i in known}
        special = bool(errors or formulas) and (
            any((row_number, i) in errors for i in cells)
            or any((row_number, i) in formulas for i in cells)
        )
        if not any(cells.values()) and not special:
            continue
        if skip_notes and not special and _is_note(cells):
            notes += 1
            continue
        where = Where(sheet.name, row_number, letters)
        if row_number in sheet.hidden_rows:
            result.problems.append(
                where.problem(
                    "非表示の行です。再表示して内容を確かめるか、不要なら行を削除してください"
                )
            )
            continue
        values, ok = {}, True
        for index, column in known.items():
            if errors and (row_number, index) in errors:
                error_value = errors[(row_number, index)]
                message = f"{column.label}がExcelのエラー値「{error_value}」です"
                result.problems.append(where.problem(message, column.key))
                ok = False
                continue
            if formulas and (row_number, index) in formulas:
                result.problems.append(
                    where.problem(
                        f"{column.label}の数式の計算結果が保存されていません。Excelで開いて"
                        "保存し直すか、値として貼り付けてください",
                        column.key,
                    )
                )
                ok = False
                continue
            text = cells[index]
            if index in read and text in read[index]:
                values[column.key] = read[index][text]
                continue
            try:
                values[column.key] = column.clean(text, lookups)
                if index in read:
                    read[index][text] = values[column.key]
            except CellError as error:
                result.problems.append(where.problem(str(error), column.key))
                ok = False
        if ok:
            yield values, where
    if notes:
        result.notices.append(f"シート「{sheet.name}」の注記の行（{notes}行）は読み飛ばしました。")


# A row with one cell starting like this is a note under the table, not data.
NOTE = re.compile(r"[※＊*]|[(（]?注\d*[)）:：]|【注】|備考[:：]")


def _is_note(cells: dict[int, str]) -> bool:
    filled = [text for text in cells.values() if text]
    return len(filled) == 1 and NOTE.match(filled[0]) is not None


class KpiBuilder:
    """KPI workbook rows → measures, activities and KPIs, with the cross-row checks."""

    def __init__(self, result: Validated):
        self.result = result
        self.kpi_rows: dict[tuple, Where] = {}
        self.activities_by_measure: dict[tuple, list[ActivityRecord]] = defaultdict(list)
        self.kpi_count: dict[tuple, int] = defaultdict(int)
        # The sub-group a marker row or text (●被保険者) opened, per measure, for the KPI
        # rows that follow it.
        self.subgroups: dict[tuple, str] = {}
        self.pillar_notices: set[tuple] = set()

    def add(self, values: dict, where: Where) -> None:
        if not self._years(values, where):
            return
        measure = self._measure(values, where)
        if measure is None:
            return
        text = values.get("activity") or ""
        indicator = values.get("indicator")
        if indicator:
            self._kpi(measure, indicator, text, values, where)
            return
        filled = [_label(key) for key in KPI_ONLY if _written(values.get(key))]
        filled += [
            f"{era_label(year)}の{_label(name.removesuffix('_text'))}"
            for year, figures in values["other_years"].items()
            for name, text in figures.items()
            if _written(text)
        ]
        if filled:
            self.result.problems.append(
                where.problem(f"{filled[0]}がありますが、KPI指標がありません", "indicator")
            )
            return
        subgroup, rest = columns.split_subgroup(text)
        if subgroup is not None:
            self.subgroups[measure.key] = subgroup
            if not rest:
                return  # a marker line: it heads the rows below, it is no activity
            text = rest
        if values.get("subgroup"):
            subgroup = self.subgroups[measure.key] = values["subgroup"]
        elif subgroup is None and "subgroup" not in values:
            # An activity under a marker row (●被保険者) without a 対象 column of its own.
            subgroup = self.subgroups.get(measure.key, "")
        if text and not NO_KPI.fullmatch(text):
            marker, body = columns.split_activity_number(text)
            marker = values.get("activity_number") or marker
            if not body:
                self.result.problems.append(
                    where.problem(f"事業内容「{text}」に内容がありません", "activity")
                )
                return
            fields = {"subgroup": subgroup or ""}
            if "mark" in values:
                fields["mark"] = values["mark"]
            record = ActivityRecord(measure, marker, body, fields, where)
            self.activities_by_measure[measure.key].append(record)
            return
        if values.get("mark"):
            self.result.problems.append(
                where.problem("KPIも事業内容もない行に結果があります", "mark")
            )

    def _years(self, values: dict, where: Where) -> bool:
        """Figures under headers naming a year (令和5年度目標, R5実績) read against the row's
        fiscal year: that year's are the row's 目標 / 実績, the year before's 実績 its
        前年度実績; other years' stay apart (values["other_years"]). False after a problem."""
        year = values["fiscal_year"]
        other: dict[int, dict[str, str]] = defaultdict(dict)
        for key in [k for k in values if "@" in k]:
            text = values.pop(key)
            figure, written_year = key.split("@")
            written_year = int(written_year)
            if written_year == year:
                own = figure
            elif written_year == year - 1 and figure == "actual":
                # 前年度実績 of this KPI, and the actual of last year's KPI where it has none
                own = "previous_actual"
                if text:
                    other[written_year][f"{figure}_text"] = text
            else:
                if text:
                    other[written_year][f"{figure}_text"] = text
                continue
            if text and values.get(own) and values[own] != text:
                self.result.problems.append(
                    where.problem(
                        f"{_label(own)}が2列に異なる値で書かれています"
                        f"（「{values[own]}」と「{text}」）",
                        key,
                    )
                )
                return False
            if text or own not in values:
                values[own] = text
        values["other_years"] = dict(other)
        return True

    def _measure(self, values: dict, where: Where) -> MeasureRecord | None:
        title = values["measure"]
        number = values.get("measure_no") or None
        split = split_measure_number(title)
        if split is not None and (number is None or _sort_key(split[0]) == number[1]):
            # `(1) 健全な財政運営`: the number written in the title (again, or only there)
            label, title = split
            number = number or (label, _sort_key(label))
        if number is None:
            self.result.problems.append(
                where.problem(
                    "施策番号がありません（「施策番号」の列に書くか、施策を「(1) 健全な財政運営」"
                    "のように番号から書いてください）",
                    "measure_no" if "measure_no" in values else "measure",
                )
            )
            return None
        pillar = values["pillar"]
        self._pillar_notice(pillar, where)
        record = MeasureRecord(
            branch=values["branch"],
            year=values["fiscal_year"],
            pillar=(pillar.number, pillar.label),
            number=number,
            title=title,
            where=where,
        )
        existing = self.result.measures.get(record.key)
        if existing is None:
            self.result.measures[record.key] = existing = record
        elif existing.pillar[0] != record.pillar[0]:
            self.result.problems.append(
                where.problem(
                    f"区分「{record.pillar[0]} {record.pillar[1]}」が{existing.where.row}行目の"
                    f"同じ施策（区分「{existing.pillar[0]} {existing.pillar[1]}」）と異なります",
                    "pillar",
                )
            )
            return None
        elif existing.title != record.title:
            same = "" if existing.number[0] == record.number[0] else "と同じ番号"
            self.result.problems.append(
                where.problem(
                    f"施策名「{record.title}」が{existing.where.row}行目の同じ施策番号"
                    f"{same}（{existing.number[0]} {existing.title}）と異なります",
                    "measure",
                )
            )
            return None
        for key in MEASURE_TEXTS:
            value = values.get(key)
            if value is None:
                continue
            current = existing.fields.get(key)
            if not current:
                existing.fields[key] = value
            elif value and value != current:
                label = columns_by_key(key).label
                self.result.problems.append(
                    where.problem(
                        f"{label}が{existing.where.row}行目の同じ施策と異なります"
                        "（施策の最初の行にだけ書くか、同じ内容にしてください）",
                        key,
                    )
                )
                return None
        for key, flag in (("importance", "is_important"), ("difficulty", "is_difficult")):
            if key in values:
                existing.fields[flag] = existing.fields.get(flag, False) or values[key]
        return existing

    def _pillar_notice(self, pillar: columns.PillarCell, where: Where) -> None:
        """A number written before a pillar's name that names another pillar: the name wins
        (numbers are the branch's own; the names are the national ones), said once."""
        if pillar.written in (None, pillar.number) or pillar in self.pillar_notices:
            return
        self.pillar_notices.add(pillar)
        self.result.notices.append(
            f"{where.sheet}!{where.row}行: 区分「{pillar.written} {pillar.label}」の番号"
            f"{pillar.written}は名前と合わないため、名前から全国の区分{pillar.number}"
            f"（{NATIONAL_PILLARS[pillar.number]}）としました。"
        )

    def _kpi(self, measure, indicator, text, values, where) -> None:
        fields = _kpi_fields(values, text)
        if fields.get("subgroup"):
            self.subgroups[measure.key] = fields["subgroup"]
        elif "activity" in values and "subgroup" not in values:
            # A KPI row under a marker row (●被保険者) without a 対象 column of its own.
            fields["subgroup"] = self.subgroups.get(measure.key, "")
        if values.get("activity_number") and fields.get("activity_number") not in (
            None,
            values["activity_number"],
        ):
            self.result.problems.append(
                where.problem(
                    f"事業内容の番号「{values['activity_number']}」が事業内容の先頭の番号"
                    f"（{fields['activity_number']}）と異なります",
                    "activity_number",
                )
            )
            return
        if values.get("activity_number"):
            fields["activity_number"] = values["activity_number"]
        record = KpiRecord(
            measure=measure,
            indicator=indicator,
            unit=values.get("unit") or None,
            fields=fields,
            order=self.kpi_count[measure.key] + 1,
            where=where,
            other_years=values.get("other_years", {}),
        )
        if values.get("mark_source") == MarkSource.MANUAL and not values.get("mark"):
            self.result.problems.append(
                where.problem("結果の根拠が手動ですが、結果がありません", "mark")
            )
            return
        if record.key in self.kpi_rows:
            first = self.kpi_rows[record.key]
            self.result.problems.append(
                where.problem(
                    f"{measure.branch.name} {era_label(measure.year)}の「{indicator}」が"
                    f"{first.row}行目にもあります（同じ支部・年度・KPI指標は1行にしてください）",
                    "indicator",
                )
            )
            return
        self.kpi_rows[record.key] = where
        self.kpi_count[measure.key] += 1
        self.result.kpis.append(record)

    def finish(self) -> None:
        """Number the activities of each measure: by their ①/(1) where those are unique,
        else by row order (some documents repeat or skip numbers)."""
        for records in self.activities_by_measure.values():
            seen: dict[tuple, Where] = {}
            for record in records:
                key = (record.fields["subgroup"], record.text)
                if key in seen:
                    self.result.problems.append(
                        record.where.problem(
                            f"同じ事業内容が{seen[key].row}行目にもあります", "activity"
                        )
                    )
                seen.setdefault(key, record.where)
            numbers = [
                record.marker or position for position, record in enumerate(records, start=1)
            ]
            if len(set(numbers)) != len(numbers):
                # Each sub-group numbering its activities from ① (●被保険者 ①②③, ◆被扶養者
                # ①②) is how reports write them: numbered by row order without a notice.
                pairs = zip(records, numbers, strict=True)
                per_subgroup = {(record.fields["subgroup"], number) for record, number in pairs}
                numbers = list(range(1, len(records) + 1))
                if len(per_subgroup) != len(records):
                    first = records[0]
                    self.result.notices.append(
                        f"{first.where.sheet}: {first.measure.label}の事業内容の番号が重複または"
                        "欠けているため、行の順に 1, 2, 3 … と番号を付けました。"
                    )
            for record, number in zip(records, numbers, strict=True):
                record.number = number
                self.result.activities.append(record)


def _sort_key(label: str) -> str:
    return columns.measure_sort_key(label)


def _written(value) -> bool:
    """A cell that says something: not blank, and not only a dash (`-` in the columns of a
    row without a KPI, as the plans' tables write them)."""
    if value in ("", None, {}):
        return False
    return not (isinstance(value, str) and parse_value(value).is_empty)


def _kpi_fields(values: dict, text: str) -> dict:
    """The Kpi fields the row writes: only those whose column is in the sheet.

    The KPI's sentence (事業内容) may carry its activity number (`③ …`), a sub-group before
    it (`●被保険者`) and tags (`【新設】`); the target may carry tags too. Each is stored
    apart: the number in activity_number, the sub-group in subgroup, the tags in tags."""
    names = {
        "target": "target_text",
        "actual": "actual_text",
        "previous_actual": "previous_actual_text",
        "national_average": "national_average_text",
        "national_rank": "national_rank",
        "mark_reason": "mark_reason",
        "note": "note",
    }
    fields = {name: values[key] for key, name in names.items() if key in values}
    tags = []
    for name in ("target_text", "actual_text", "previous_actual_text", "national_average_text"):
        if name in fields:
            fields[name], found = columns.split_tags(fields[name])
            tags.append(found)
    if "activity" in values:
        subgroup, text = columns.split_subgroup(text)
        text, found = columns.split_tags(text)
        tags.append(found)
        number, body = columns.split_activity_number(text)
        fields["description"] = body if number is not None else text
        fields["activity_number"] = number
        fields["subgroup"] = subgroup or ""
    if "subgroup" in values and values["subgroup"]:
        fields["subgroup"] = values["subgroup"]
    elif "subgroup" in values:
        fields.setdefault("subgroup", "")
    for year_figures in values.get("other_years", {}).values():
        for name, written in year_figures.items():
            year_figures[name], found = columns.split_tags(written)
            tags.append(found)
    if "tags" in values:
        tags.insert(0, columns.bracketed_tags(values["tags"]))
    if "tags" in values or "activity" in values or "target" in values:
        fields["tags"] = _joined_tags(tags)
    if "mark" in values or "mark_source" in values:
        mark = values.get("mark") or ""
        source = values.get("mark_source") or (MarkSource.MANUAL if mark else MarkSource.COMPUTED)
        fields["mark_source"] = source
        if source == MarkSource.MANUAL:
            fields["mark"] = mark
    return fields


def _joined_tags(tags: list[str]) -> str:
    """Each tag once, in the order written: `【新設】【重点】`."""
    found = re.findall(r"【[^【】]*】", "".join(tags))
    return "".join(dict.fromkeys(found))


def _label(key: str) -> str:
    return columns_by_key(key).label


def columns_by_key(key: str):
    return next(c for c in columns.KPI_COLUMNS if c.key == key)


class MonthlyBuilder:
    def __init__(self, result: Validated):
        self.result = result
        self.rows: dict[tuple, Where] = {}

    def add(self, values: dict, where: Where) -> None:
        record = MonthlyRecord(
            branch=values["branch"],
            year=values["fiscal_year"],
            indicator=values["indicator"],
            series=values["series"],
            values=columns.written_months(values),
            where=where,
            year_figure=values.get("year_figure", ""),
            year_figure_label=values.get("year_figure_label", ""),
        )
        key = (*record.kpi_key, record.series)
        if key in self.rows:
            self.result.problems.append(
                where.problem(
                    f"{record.branch.name} {era_label(record.year)}「{record.indicator}」の"
                    f"{SERIES_LABELS[record.series]}が{self.rows[key].row}行目にもあります",
                    "indicator",
                )
            )
            return
        self.rows[key] = where
        self.result.monthly.append(record)

    def finish(self) -> None:
        pass


class IndicatorBuilder:
    """The optional 指標 sheet: the indicator catalogue."""

    def __init__(self, result: Validated):
        self.result = result
        self.rows: dict[str, Where] = {}

    def add(self, values: dict, where: Where) -> None:
        key = columns.indicator_key(values["indicator"])
        if key in self.rows:
            self.result.problems.append(
                where.problem(
                    f"指標「{values['indicator']}」が{self.rows[key].row}行目にもあります",
                    "indicator",
                )
            )
            return
        self.rows[key] = where
        keys = ("unit", "direction", "aggregation", "definition")
        fields = {k: values[k] for k in keys if values.get(k, "") != ""}
        self.result.indicators.append(IndicatorRecord(values["indicator"], fields, where))

    def finish(self) -> None:
        pass
