"""A synthetic national data set: 47 branches × 10 fiscal years × 60 indicators.

Deterministic (seeded), so every run measures the same rows. Texts are written the way
branch documents write them: `96.5%以上`, `8,364円`, full-width digits `９５．３％`,
accounting minus `△12`, durations `4:56`, relative targets `対前年度以上` and
`前年度(0.54%)以下`, as-of notes `0.83% (R6.2現在)`, qualitative `実施`.

The rows are written to workbooks in the import formats (KPI sheet + 指標 sheet; 月次
sheet) and, for the background years, given to `bench.load` without a workbook.

The figures behave as a branch's do, so that the year-end outlook can be back-tested on
them (`python -m bench.outlook`, docs/OUTLOOK.md):
- the months have a seasonal profile: each branch's indicator has its own twelve monthly
  weights, stable from year to year, which each year varies by up to ±10 % a month;
- the year-end figure follows from the months: a sum of single months (単月の合計) is their
  total, a running figure (累計) is March's — a running ratio (査定率 to date: each month's
  rate weighted by the month's volume) or, for uptake rates (健診実施率), a share that
  builds up to the year's figure — and a level (時点) is March's value (February's for the
  rows whose actual is written as of February);
- each year moves from the last year-end by a random change (a few % for counts and
  amounts, less for rates), and the second half of the year runs at its own pace (a factor
  around 1): what the first half cannot tell;
- targets are set at the start of the year from the last year-end figure (or a typical
  level in the first year), a little above or below it in proportion to how much the
  indicator moves in a year — so they are met in some branches and years and missed in
  others, about half and half, never missed by construction; relative targets (対前年度以上)
  compare with last year's figure.
A month left blank (3 %) is one the branch did not report; the year-end figure is the
branch's own, from all its months.
"""

import functools
import math
import random
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from branches.prefectures import PREFECTURES
from kpis.eras import FISCAL_MONTHS, era_label, era_short

SEED = 20240401
FIRST_YEAR = 2015
YEARS = tuple(range(FIRST_YEAR, FIRST_YEAR + 10))  # FY2015 (平成27年度) … FY2024 (令和6年度)
BRANCH_CODES = tuple(p.code for p in PREFECTURES)
KPIS_PER_MEASURE = 3

KPI_HEADERS = (
    "支部コード",
    "年度",
    "区分",
    "施策番号",
    "施策",
    "担当グループ",
    "重要度",
    "困難度",
    "事業内容",
    "KPI指標",
    "単位",
    "目標",
    "実績",
    "前年度実績",
    "全国平均",
    "全国順位",
    "結果",
    "備考",
    "課題",
    "結果概要",
)
INDICATOR_HEADERS = ("KPI指標", "単位", "方向", "月次の集計", "定義")
MONTHLY_HEADERS = ("支部コード", "年度", "KPI指標", "系列", *(f"{m}月" for m in FISCAL_MONTHS))

# Pillar wording changed with the 第6期 action plan (FY2024).
PILLARS_UNTIL_2023 = ("基盤的保険者機能関係", "戦略的保険者機能関係", "組織・運営体制関係")
PILLARS_FROM_2024 = (
    "基盤的保険者機能の盤石化",
    "戦略的保険者機能の一層の発揮",
    "保険者機能の強化を支える組織・運営体制等の整備",
)
GROUPS = ("業務G", "レセプトG", "保健G", "企画総務G")
AGGREGATION_LABELS = {"sum": "単月の合計", "cumulative": "累計", "point": "時点"}
SERIES_FOR = {"sum": "単月", "cumulative": "累計", "point": "単月"}

_FULL_WIDTH = str.maketrans("0123456789.,%", "０１２３４５６７８９．，％")
_HALF_WIDTH = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    unit: str  # "%", "円", "件", "事業所", "分", "" (qualitative)
    direction: str  # higher / lower / qualitative
    aggregation: str  # sum / cumulative / point
    style: str  # pct / yen / count / delta / duration / qualitative
    base: float  # a typical year-end value
    decimals: int = 1
    definition: str = ""

    @property
    def builds_up(self) -> bool:
        """A 累計 rate that builds up through the year (the year's uptake so far), not a
        running ratio."""
        return self.aggregation == "cumulative" and self.name.split("（")[0] in BUILDS_UP


# (name, unit, direction, aggregation, style, base, decimals)
_BASE_INDICATORS = [
    ("サービススタンダード達成率", "%", "higher", "cumulative", "pct", 99.5, 1),
    ("現金給付等の申請に係る郵送化率", "%", "higher", "cumulative", "pct", 95.5, 1),
    ("柔道整復施術療養費の多部位頻回申請割合", "%", "lower", "cumulative", "pct", 0.95, 2),
    ("レセプト点検の査定率", "%", "higher", "cumulative", "pct", 0.25, 3),
    ("再審査レセプト1件当たり査定額", "円", "higher", "cumulative", "yen", 3500, 0),
    ("資格喪失後1か月以内の保険証回収率", "%", "higher", "cumulative", "pct", 86.0, 2),
    ("債権回収率", "%", "higher", "cumulative", "pct", 62.0, 1),
    ("生活習慣病予防健診実施率", "%", "higher", "cumulative", "pct", 58.0, 1),
    ("事業者健診データ取得率", "%", "higher", "cumulative", "pct", 9.5, 1),
    ("被扶養者の特定健診実施率", "%", "higher", "cumulative", "pct", 27.0, 1),
    ("特定保健指導実施率", "%", "higher", "cumulative", "pct", 18.0, 1),
    ("要治療者の医療機関受診割合", "%", "higher", "cumulative", "pct", 11.5, 1),
    ("ジェネリック医薬品使用割合", "%", "higher", "point", "pct", 80.5, 1),
    ("健康宣言事業所数", "事業所", "higher", "point", "count", 1200, 0),
    ("業務経費の対前年度増減額", "千円", "lower", "point", "delta", 0, 0),
    ("一般競争入札に占める一者応札案件の割合", "%", "lower", "cumulative", "pct", 18.0, 1),
    ("メールマガジン新規登録件数", "件", "higher", "sum", "count", 40, 0),
    ("健康保険委員の委嘱者数", "人", "higher", "point", "count", 2400, 0),
    ("コールセンター平均応答時間", "分", "lower", "point", "duration", 296, 0),
    ("任意継続被保険者の口座振替利用率", "%", "higher", "point", "pct", 42.0, 1),
    ("医療費通知の送付件数", "件", "higher", "sum", "count", 3000, 0),
    ("効果的な意見発信の実施", "", "qualitative", "point", "qualitative", 0, 0),
]
# 累計 rates that build up from April to March (the rest are ratios to date).
BUILDS_UP = frozenset(
    {
        "債権回収率",
        "生活習慣病予防健診実施率",
        "事業者健診データ取得率",
        "被扶養者の特定健診実施率",
        "特定保健指導実施率",
        "要治療者の医療機関受診割合",
    }
)
# How far a year-end figure moves in a year (standard deviation, a share of it).
YEAR_CHANGE = {"count": 0.06, "yen": 0.04, "duration": 0.05, "pct": 0.03}
# How far a month strays from its profile (standard deviation, a share of it).
MONTH_NOISE = 0.08
# Each base indicator exists in a few variants so that the catalogue has 60 names.
_VARIANTS = ("", "（被保険者）", "（被扶養者）")


def indicator_catalogue(count: int = 60) -> list[IndicatorSpec]:
    specs = []
    for variant in _VARIANTS:
        for name, unit, direction, aggregation, style, base, decimals in _BASE_INDICATORS:
            specs.append(
                IndicatorSpec(
                    name=name + variant,
                    unit=unit,
                    direction=direction,
                    aggregation=aggregation,
                    style=style,
                    base=base,
                    decimals=decimals,
                    definition=f"{name}{variant}（ベンチマーク用の合成データ）",
                )
            )
    return specs[:count]


@dataclass
class KpiRow:
    """One KPI of one branch and year: a row of the KPI sheet and one of the 月次 sheet."""

    branch_code: str
    year: int
    indicator: IndicatorSpec
    pillar_number: int
    pillar_name: str
    measure_number: int
    measure_title: str
    group: str
    is_important: bool
    is_difficult: bool
    description: str
    target_text: str
    actual_text: str
    previous_actual_text: str
    national_average_text: str = ""
    national_rank: int | None = None
    series: str = "単月"
    months: list = field(default_factory=list)  # 12 cells in fiscal order (str, int or None)
    actual_number: float | None = None

    @property
    def year_label(self) -> str:
        return era_label(self.year)

    def kpi_sheet_row(self) -> tuple:
        return (
            self.branch_code,
            self.year_label,
            f"{self.pillar_number} {self.pillar_name}",
            f"({self.measure_number})",
            self.measure_title,
            self.group,
            "高" if self.is_important else None,
            "高" if self.is_difficult else None,
            self.description,
            self.indicator.name,
            self.indicator.unit or None,
            self.target_text,
            self.actual_text or None,
            self.previous_actual_text or None,
            self.national_average_text or None,
            f"{self.national_rank}位" if self.national_rank else None,
            None,  # 結果: left to the product's evaluation
            None,  # 備考
            None,
            None,
        )

    def monthly_sheet_row(self) -> tuple:
        return (self.branch_code, self.year_label, self.indicator.name, self.series, *self.months)


class NationalDataSet:
    """All rows of the data set, generated year by year (previous actuals carry over)."""

    def __init__(self, seed: int = SEED, years=YEARS, branch_codes=BRANCH_CODES):
        self.seed = seed
        self.years = tuple(years)
        self.branch_codes = tuple(branch_codes)
        self.indicators = indicator_catalogue()
        self._rows: dict[int, list[KpiRow]] = {}

    def rows(self, year: int) -> list[KpiRow]:
        if year not in self._rows:
            for y in self.years:
                if y > year:
                    break
                if y not in self._rows:
                    self._rows[y] = self._generate_year(y)
        return self._rows[year]

    def _generate_year(self, year: int) -> list[KpiRow]:
        previous = {(r.branch_code, r.indicator.name): r for r in self._rows.get(year - 1, [])}
        rows = []
        for code in self.branch_codes:
            rng = random.Random(f"{self.seed}-{year}-{code}")
            for index in range(len(self.indicators)):
                rows.append(self._kpi_row(rng, code, year, index, previous))
        self._add_national_figures(rows)
        return rows

    def _kpi_row(self, rng, code, year, index, previous) -> KpiRow:
        spec = self.indicators[index]
        pillars = PILLARS_FROM_2024 if year >= 2024 else PILLARS_UNTIL_2023
        measure_index = index // KPIS_PER_MEASURE  # 20 measures: 7 + 9 + 4 under the pillars
        pillar_number = 1 if measure_index < 7 else 2 if measure_index < 16 else 3
        first_of_pillar = {1: 0, 2: 7, 3: 16}[pillar_number]
        measure_theme = self.indicators[measure_index * KPIS_PER_MEASURE].name.split("（")[0]
        prior = previous.get((code, spec.name))
        if prior is not None and prior.actual_number is not None:
            planned = prior.actual_number  # the year is planned from the last year-end
        else:
            planned = spec.base * rng.uniform(0.85, 1.15)
        as_of_february = rng.random() < 0.05
        if spec.style == "qualitative":
            months, actual_number = _monthly_cells(rng, spec, [None] * 12), None
            actual_text = "実施" if rng.random() < 0.9 else "未実施"
        else:
            values = _year_months(rng, spec, planned, _profile(self.seed, code, spec.name))
            months = _monthly_cells(rng, spec, values)
            actual_number = _year_end(spec, values[: 11 if as_of_february else 12])
            actual_text = _actual_text(rng, spec, actual_number, year, as_of_february)
        target_text = _target_text(rng, spec, planned, prior)
        previous_text = prior.actual_text if prior else ""
        return KpiRow(
            branch_code=code,
            year=year,
            indicator=spec,
            pillar_number=pillar_number,
            pillar_name=pillars[pillar_number - 1],
            measure_number=measure_index - first_of_pillar + 1,
            measure_title=f"{measure_theme}の推進",
            group=GROUPS[measure_index % len(GROUPS)],
            is_important=measure_index % 3 == 0,
            is_difficult=measure_index % 4 == 0,
            description=f"{spec.name}を目標以上とする",
            target_text=target_text,
            actual_text=actual_text,
            previous_actual_text=previous_text,
            series=SERIES_FOR[spec.aggregation],
            months=months,
            actual_number=actual_number,
        )

    def _add_national_figures(self, rows: list[KpiRow]) -> None:
        by_indicator: dict[str, list[KpiRow]] = {}
        for row in rows:
            if row.actual_number is not None:
                by_indicator.setdefault(row.indicator.name, []).append(row)
        for group in by_indicator.values():
            spec = group[0].indicator
            average = sum(r.actual_number for r in group) / len(group)
            ranked = sorted(group, key=lambda r: r.actual_number, reverse=spec.direction != "lower")
            for rank, row in enumerate(ranked, start=1):
                row.national_average_text = _number_text(average, spec)
                row.national_rank = rank


@functools.cache
def _profile(seed: int, code: str, name: str) -> tuple[float, ...]:
    """The branch's monthly weights for the indicator (April first, mean 1): a yearly
    and a half-yearly wave, the same every year."""
    rng = random.Random(f"{seed}-profile-{code}-{name}")
    yearly, half = rng.uniform(0.1, 0.45), rng.uniform(0.0, 0.2)
    phase, phase2 = rng.uniform(0, 12), rng.uniform(0, 12)
    weights = [
        max(
            0.2,
            1
            + yearly * math.sin(2 * math.pi * (m + phase) / 12)
            + half * math.sin(4 * math.pi * (m + phase2) / 12),
        )
        for m in range(12)
    ]
    mean = sum(weights) / 12
    return tuple(w / mean for w in weights)


def _number_text(value: float, spec: IndicatorSpec, *, with_unit: bool = True) -> str:
    if spec.style == "duration":
        minutes = max(0, round(value))
        return f"{minutes // 60}:{minutes % 60:02d}"
    rounded = round(value, spec.decimals)
    if spec.style in ("count", "delta", "yen"):
        magnitude = f"{abs(round(rounded)):,}"
    else:
        magnitude = f"{abs(rounded):.{spec.decimals}f}"
    sign = "△" if rounded < 0 else ""  # the accounting minus of the branches' tables
    return f"{sign}{magnitude}{spec.unit if with_unit else ''}"


def _full_width(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def _target_text(rng, spec: IndicatorSpec, planned: float, prior: KpiRow | None) -> str:
    if spec.style == "qualitative":
        return spec.name
    comparator = "以下" if spec.direction == "lower" else "以上"
    roll = rng.random()
    if prior is not None and roll < 0.15:
        return f"対前年度{comparator}"
    if prior is not None and prior.actual_number is not None and roll < 0.25:
        return f"前年度({_number_text(prior.actual_number, spec)}){comparator}"
    if spec.style == "delta":
        goal = 0.0
    else:
        # A little above or below the last year-end, as far as the indicator moves in a year.
        ambition = rng.uniform(-0.5, 1.0) * YEAR_CHANGE[spec.style]
        goal = planned * (1 - ambition if spec.direction == "lower" else 1 + ambition)
        if spec.unit == "%":
            goal = min(goal, 100.0)
    text = f"{_number_text(goal, spec)}{comparator}"
    return _full_width(text) if roll > 0.95 else text


def _actual_text(rng, spec: IndicatorSpec, value: float, year: int, as_of_february: bool) -> str:
    text = _number_text(value, spec)
    if as_of_february:
        # A partial-year figure: as of February of the following calendar year.
        return f"{text} ({era_short(year + 1)}.2現在)"
    return _full_width(text) if rng.random() < 0.05 else text


def _year_months(rng, spec: IndicatorSpec, planned: float, profile) -> list[float]:
    """The year's twelve true values, April to March, rounded as the branch writes them."""
    weights = [w * rng.uniform(0.9, 1.1) for w in profile]
    total_weight = sum(weights)
    if spec.style == "delta":
        # The year-to-date change against last year's expenses, ending anywhere.
        end = rng.uniform(-3000, 4000)
        values = [end * (m + 1) / 12 + rng.gauss(0, 150) for m in range(12)]
        return [round(v) for v in values]
    sigma = YEAR_CHANGE[spec.style]
    year_end = planned * (1 + rng.gauss(0, sigma))
    second_half = rng.gauss(1, sigma / 2)
    pace = [1.0] * 6 + [second_half] * 6
    ceiling = 100.0 if spec.unit == "%" else math.inf
    if spec.aggregation == "sum":
        values = [
            year_end * w / total_weight * p * rng.gauss(1, MONTH_NOISE)
            for w, p in zip(weights, pace, strict=True)
        ]
    elif spec.aggregation == "cumulative" and spec.builds_up:
        values, running = [], 0.0
        for w, p in zip(weights, pace, strict=True):
            running += min(year_end, ceiling) * w / total_weight * p * rng.gauss(1, MONTH_NOISE)
            values.append(running)
    elif spec.aggregation == "cumulative":
        # Each month's rate, weighted by the month's volume: the ratio to date.
        values, rated, volume = [], 0.0, 0.0
        for w, p in zip(weights, pace, strict=True):
            rate = min(year_end * (1 + 0.02 * (w - 1)) * p * rng.gauss(1, 0.01), ceiling)
            rated, volume = rated + rate * w, volume + w
            values.append(rated / volume)
    else:
        # A level moving from last year-end towards this one, the second half at its pace.
        values = []
        for m, w in enumerate(weights):
            level = planned + (year_end - planned) * (m + 1) / 12
            if m >= 6:
                level += planned * (second_half - 1) * (m - 5) / 6
            values.append(level + planned * (0.01 * (w - 1) + rng.gauss(0, sigma / 6)))
    floor = 0.0
    return [round(min(max(v, floor), ceiling), spec.decimals) for v in values]


def _year_end(spec: IndicatorSpec, values: list[float]) -> float:
    """The figure the months add up to: their total, or the last month's."""
    if spec.aggregation == "sum":
        return round(sum(values), spec.decimals)
    return values[-1]


def _monthly_cells(rng, spec: IndicatorSpec, values: list) -> list:
    """Twelve cells, April to March, in the notation branches use."""
    typed_numbers = rng.random() < 0.3  # some branches type numbers instead of text
    cells = []
    for value in values:
        if rng.random() < 0.03:
            cells.append(None)  # not reported
            continue
        if spec.style == "qualitative":
            cells.append("実施" if rng.random() < 0.6 else "—")
            continue
        if typed_numbers and spec.style in ("count", "yen"):
            cells.append(round(value))
            continue
        text = _number_text(value, spec, with_unit=spec.style != "count" or rng.random() < 0.5)
        cells.append(_full_width(text) if rng.random() < 0.05 else text)
    return cells


# --- the update path: the same year with every value changed ---------------------------

_DURATION = re.compile(r"(\d+):(\d\d)")
_NUMBER = re.compile(r"\d[\d,]*(?:\.(\d+))?")
_QUALITATIVE_SWAP = {"実施": "—", "—": "実施", "未実施": "実施"}


def changed_rows(data: NationalDataSet, year: int) -> list[KpiRow]:
    """The year's rows with every monthly value and every actual changed, in the same
    notation: the update path, where an import finds every stored value different."""
    return [
        replace(
            row,
            actual_text=changed_cell(row.actual_text),
            months=list(map(changed_cell, row.months)),
        )
        for row in data.rows(year)
    ]


def changed_cell(cell):
    """The cell with its number moved by one in its last digit (away from zero; down for a
    rate that would pass 100 %), keeping the notation: full-width digits, △, thousands
    separators, decimals, unit and note. Qualitative texts swap (実施 ↔ —); blanks stay."""
    if cell is None:
        return None
    if isinstance(cell, int):
        return cell + 1
    if cell in _QUALITATIVE_SWAP:
        return _QUALITATIVE_SWAP[cell]
    full_width = cell != cell.translate(_HALF_WIDTH)
    text = cell.translate(_HALF_WIDTH)
    if duration := _DURATION.search(text):
        minutes = int(duration[1]) * 60 + int(duration[2]) + 1
        changed = (
            text[: duration.start()]
            + f"{minutes // 60}:{minutes % 60:02d}"
            + text[duration.end() :]
        )
    else:
        number = _NUMBER.search(text)
        if number is None:
            raise ValueError(f"no number to change in {cell!r}")
        decimals = len(number[1] or "")
        step = Decimal(1).scaleb(-decimals)
        magnitude = Decimal(number[0].replace(",", "")) + step
        if text[number.end() :].startswith("%") and magnitude > 100:
            magnitude -= 2 * step
        digits = (
            f"{magnitude:,.{decimals}f}"
            if "," in number[0] or not decimals
            else f"{magnitude:.{decimals}f}"
        )
        changed = text[: number.start()] + digits + text[number.end() :]
    return _full_width(changed) if full_width else changed


# --- workbooks ---------------------------------------------------------------------------


def kpi_workbook_path(directory: Path, year: int, *, changed: bool = False) -> Path:
    return directory / f"kpi_{year}{'_changed' if changed else ''}.xlsx"


def monthly_workbook_path(directory: Path, year: int, *, changed: bool = False) -> Path:
    return directory / f"monthly_{year}{'_changed' if changed else ''}.xlsx"


def write_kpi_workbook(data: NationalDataSet, rows: list[KpiRow], path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "KPI"
    sheet.append(KPI_HEADERS)
    for row in rows:
        sheet.append(row.kpi_sheet_row())
    indicators = workbook.create_sheet("指標")
    indicators.append(INDICATOR_HEADERS)
    for spec in data.indicators:
        indicators.append(
            (
                spec.name,
                spec.unit or None,
                spec.direction,
                AGGREGATION_LABELS[spec.aggregation],
                spec.definition,
            )
        )
    workbook.save(path)


def write_monthly_workbook(rows: list[KpiRow], path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "月次"
    sheet.append(MONTHLY_HEADERS)
    for row in rows:
        sheet.append(row.monthly_sheet_row())
    workbook.save(path)


def write_workbooks(data: NationalDataSet, directory: Path) -> list[Path]:
    """Both workbooks of every year of the data set, and of the last year once more with
    every value changed (the update path); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in data.years:
        kpi_path = kpi_workbook_path(directory, year)
        monthly_path = monthly_workbook_path(directory, year)
        write_kpi_workbook(data, data.rows(year), kpi_path)
        write_monthly_workbook(data.rows(year), monthly_path)
        paths += [kpi_path, monthly_path]
    last = data.years[-1]
    changed = changed_rows(data, last)
    kpi_path = kpi_workbook_path(directory, last, changed=True)
    monthly_path = monthly_workbook_path(directory, last, changed=True)
    write_kpi_workbook(data, changed, kpi_path)
    write_monthly_workbook(changed, monthly_path)
    return paths + [kpi_path, monthly_path]
