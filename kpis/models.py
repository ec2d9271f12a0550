import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from branches.models import Branch
from kpis import eras, vocabulary
from kpis.evaluation import DEFAULT_EXCELLENT_MARGIN, Direction, evaluate
from kpis.fields import StoredDecimalField
from kpis.notation import Reading, parse_target, parse_value
from kpis.numbering import NATIONAL_PILLARS, measure_sort_key


def _mark_choice(mark: str) -> tuple[str, str]:
    return mark, f"{mark} {vocabulary.MARK_MEANINGS[mark]}"


class Mark(models.TextChoices):
    """Achievement marks (結果 / 実施状況) as the branches report them."""

    EXCELLENT = _mark_choice(vocabulary.EXCELLENT)
    ACHIEVED = _mark_choice(vocabulary.AS_PLANNED)
    BELOW = _mark_choice(vocabulary.BELOW_PLAN)
    NOT_DONE = _mark_choice(vocabulary.NOT_DONE)
    NONE = _mark_choice(vocabulary.NOT_EVALUATED)


MARK_VALUES = list(vocabulary.MARKS)

# Decimal fields hold values such as 0.334 (%), 8,364 (円), 142,000,000 (件); a stored
# number that does not fit them reads as None (kpis/fields.py), never an error.
VALUE_FIELD = {"max_digits": 20, "decimal_places": 6, "null": True, "blank": True}


class FiscalYear(models.Model):
    """A fiscal year (年度), April to March, named in the Japanese era."""

    class Status(models.TextChoices):
        PLANNING = "planning", "計画中"
        OPEN = "open", "入力受付中"
        CLOSED = "closed", "締切"

    start_year = models.PositiveSmallIntegerField(
        "開始年", unique=True, validators=[MinValueValidator(1989), MaxValueValidator(2100)]
    )
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.OPEN)
    # ◎ threshold: an achieved KPI with at least this relative margin is "well above plan".
    excellent_margin = models.DecimalField(
        "◎の基準（目標比の超過率）",
        max_digits=5,
        decimal_places=3,
        default=DEFAULT_EXCELLENT_MARGIN,
        validators=[MinValueValidator(Decimal("0"))],
    )
    # Monthly entry closes on this day of the following month (締切日); blank: no deadline.
    entry_deadline_day = models.PositiveSmallIntegerField(
        "月次入力の締切日（翌月の日）",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="例: 10 なら4月分は5月10日まで担当者が入力できます。空欄は締切なし。",
    )

    class Meta:
        ordering = ["-start_year"]
        verbose_name = "年度"
        verbose_name_plural = "年度"

    def __str__(self):
        return self.label

    @property
    def era_label(self) -> str:
        return eras.era_label(self.start_year)

    @property
    def label(self) -> str:
        """令和5年度 (2023): era and western year together, as the pages show them."""
        return f"{self.era_label} ({self.start_year})"

    @property
    def months(self) -> tuple[int, ...]:
        """Calendar months in fiscal order: 4, 5, …, 12, 1, 2, 3."""
        return eras.FISCAL_MONTHS

    def calendar_year(self, month: int) -> int:
        return self.start_year if month >= 4 else self.start_year + 1

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def entry_deadline(self, month: int) -> datetime.date | None:
        """Last day on which branch staff may enter `month`: the deadline day of the next
        month (4月分 → 5月10日 with day 10; 3月分 → 4月10日 of the following year)."""
        if self.entry_deadline_day is None:
            return None
        year = self.calendar_year(month) + (1 if month == 12 else 0)
        return datetime.date(year, month % 12 + 1, self.entry_deadline_day)


class BranchPlan(models.Model):
    """A branch's business plan for one fiscal year (支部事業計画) and its review state.

    Council members read a branch's year only once head office has published it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "作成中"
        SUBMITTED = "submitted", "提出済"
        PUBLISHED = "published", "公表済"

    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="plans", verbose_name="支部"
    )
    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.CASCADE, related_name="plans", verbose_name="年度"
    )
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="提出者",
    )
    submitted_at = models.DateTimeField("提出日時", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="公表者",
    )
    published_at = models.DateTimeField("公表日時", null=True, blank=True)
    # The plan (事業計画（案）) reaches the council before the year starts, apart from the
    # year's results (実施状況), which are published in their turn (status PUBLISHED).
    plan_published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="事業計画の公表者",
    )
    plan_published_at = models.DateTimeField("事業計画の公表日時", null=True, blank=True)
    # When a published year was reopened (公表の取り消し): readers keep the last published
    # snapshot, marked 再確認中 since this date, until it is published again.
    reopened_at = models.DateTimeField("公表の取り消し日時", null=True, blank=True)
    # The last workflow step and its reason: a return (差し戻し) or reopening (公表の取り消し)
    # is shown to the branch with its reason until the next step replaces it.
    last_step = models.CharField("直近の操作", max_length=20, blank=True)
    last_step_reason = models.TextField("直近の操作の理由", blank=True)
    last_step_at = models.DateTimeField("直近の操作の日時", null=True, blank=True)
    last_step_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="直近の操作をした人",
    )

    # The reason of a step (差し戻し: …) is kept whole: a return's reason can be long.
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    class Meta:
        ordering = ["fiscal_year", "branch__order"]
        verbose_name = "支部事業計画"
        verbose_name_plural = "支部事業計画"
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "fiscal_year"], name="plan_unique_per_branch_year"
            )
        ]

    def __str__(self):
        return f"{self.branch} {self.fiscal_year.era_label}（{self.get_status_display()}）"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Pillar(models.Model):
    """One of the three national pillars (区分) of the action plan. Branches word them their
    own way; a measure keeps that wording (`Measure.pillar_label`) and points here, so that
    filters and the national views group by the national pillar."""

    number = models.PositiveSmallIntegerField("番号", unique=True)
    name = models.CharField("区分", max_length=100)

    class Meta:
        ordering = ["number"]
        verbose_name = "区分"
        verbose_name_plural = "区分"

    def __str__(self):
        return f"{self.number}. {self.name}"

    @classmethod
    def national(cls) -> dict[int, "Pillar"]:
        """The three pillars by number, created on first use."""
        found = {p.number: p for p in cls.objects.filter(number__in=NATIONAL_PILLARS)}
        for number, name in NATIONAL_PILLARS.items():
            if number not in found:
                found[number] = cls.objects.get_or_create(number=number, defaults={"name": name})[0]
        return found


class Measure(models.Model):
    """A numbered measure (具体的な施策) of a branch's plan for one year, under a pillar."""

    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="measures", verbose_name="支部"
    )
    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.CASCADE, related_name="measures", verbose_name="年度"
    )
    pillar = models.ForeignKey(
        Pillar, on_delete=models.PROTECT, related_name="measures", verbose_name="区分"
    )
    # The pillar as the branch wrote it (基盤的保険者機能関係); pages show it.
    pillar_label = models.CharField("区分（支部の表記）", max_length=100, blank=True)
    # 施策番号 as written — (1), (1)-1, 1-2, (1)① — and the key it sorts and matches by.
    number_label = models.CharField("施策番号", max_length=20)
    sort_key = models.CharField("並び順", max_length=40)
    title = models.CharField("施策", max_length=300)
    group = models.CharField("担当グループ", max_length=50, blank=True)
    is_important = models.BooleanField("重要度：高", default=False)
    is_difficult = models.BooleanField("困難度：高", default=False)
    importance_reason = models.TextField("重要度の理由", blank=True)
    difficulty_reason = models.TextField("困難度の理由", blank=True)
    plan_text = models.TextField("計画", blank=True)
    narrative = models.TextField("結果概要", blank=True)
    challenges = models.TextField("課題", blank=True)

    # Branches write 実施状況 and 課題 in the app: who changed them and when.
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    class Meta:
        ordering = ["branch__order", "fiscal_year__start_year", "pillar__number", "sort_key"]
        verbose_name = "施策"
        verbose_name_plural = "施策"
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "fiscal_year", "pillar", "sort_key"],
                name="measure_unique_per_branch_year_pillar",
            )
        ]

    def __str__(self):
        return f"{self.number_label} {self.title}"

    def save(self, *args, **kwargs):
        self.sort_key = measure_sort_key(self.number_label) or self.number_label
        super().save(*args, **kwargs)

    @property
    def pillar_display(self) -> str:
        """The pillar as the branch wrote it, else the national name."""
        return self.pillar_label or self.pillar.name


class Activity(models.Model):
    """A numbered activity (事業内容 ①②③…) of a measure, with its mark."""

    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="activities", verbose_name="施策"
    )
    number = models.PositiveSmallIntegerField("番号")
    text = models.TextField("事業内容")
    # A sub-group heading of the plan (●被保険者, ◆被扶養者), as written.
    subgroup = models.CharField("対象", max_length=50, blank=True)
    mark = models.CharField("結果", max_length=1, choices=Mark.choices, blank=True)

    # Branches set their activities' marks in the app: who changed them and when.
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    class Meta:
        ordering = ["measure", "number"]
        verbose_name = "事業内容"
        verbose_name_plural = "事業内容"
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "number"], name="activity_unique_number_per_measure"
            ),
            models.CheckConstraint(
                condition=models.Q(mark__in=[*MARK_VALUES, ""]), name="activity_mark_valid"
            ),
        ]

    def __str__(self):
        return self.text[:40]


class Indicator(models.Model):
    """A national KPI indicator (指標), the same in every branch so branches compare."""

    class Aggregation(models.TextChoices):
        SUM = vocabulary.Aggregation.SUM, vocabulary.AGGREGATION_LABELS["sum"]
        CUMULATIVE = vocabulary.Aggregation.CUMULATIVE, vocabulary.AGGREGATION_LABELS["cumulative"]
        POINT = vocabulary.Aggregation.POINT, vocabulary.AGGREGATION_LABELS["point"]

    name = models.CharField("指標名", max_length=200, unique=True)
    slug = models.SlugField("URL名", max_length=200, unique=True, allow_unicode=True)
    unit = models.CharField("単位", max_length=10, blank=True)
    direction = models.CharField(
        "方向",
        max_length=12,
        choices=[
            (direction.value, label) for direction, label in vocabulary.DIRECTION_LABELS.items()
        ],
        default=Direction.HIGHER.value,
    )
    aggregation = models.CharField(
        "月次の集計", max_length=12, choices=Aggregation.choices, default=Aggregation.POINT
    )
    definition = models.TextField("定義", blank=True)
    # Yearly indicators (filled by head office at year end) never count as missing months.
    reported_monthly = models.BooleanField("月次で報告", default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "指標"
        verbose_name_plural = "指標"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name, allow_unicode=True)
        super().save(*args, **kwargs)


class Kpi(models.Model):
    """A branch's KPI for one fiscal year: target, actual, evaluation and mark.

    The parsed fields (target_*, actual_*, achieved, suggested_mark …) are derived from the
    texts by `evaluate_texts()`, which every save and import runs.
    """

    class MarkSource(models.TextChoices):
        COMPUTED = vocabulary.MarkSource.COMPUTED, vocabulary.MARK_SOURCE_LABELS["computed"]
        MANUAL = vocabulary.MarkSource.MANUAL, vocabulary.MARK_SOURCE_LABELS["manual"]

    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="kpis", verbose_name="支部"
    )
    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.CASCADE, related_name="kpis", verbose_name="年度"
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="kpis", verbose_name="指標"
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="kpis", verbose_name="施策"
    )
    order = models.PositiveSmallIntegerField("表示順", default=0)
    description = models.TextField("KPI", blank=True)
    # Which numbered activity of the measure the KPI is in the report (its ①).
    activity_number = models.PositiveSmallIntegerField("事業内容の番号", null=True, blank=True)
    # A sub-group the report lists it under (●被保険者, ◆被扶養者).
    subgroup = models.CharField("対象", max_length=50, blank=True)
    # Tags written beside the target (【新設】), kept apart from the target text.
    tags = models.CharField("表示", max_length=50, blank=True)

    target_text = models.CharField("目標", max_length=200, blank=True)
    target_kind = models.CharField("目標の種類", max_length=12, blank=True)
    target_value = StoredDecimalField("目標値", **VALUE_FIELD)
    target_unit = models.CharField("目標の単位", max_length=10, blank=True)
    target_comparator = models.CharField("比較", max_length=2, blank=True)
    target_baseline = StoredDecimalField("目標に記載の基準値", **VALUE_FIELD)

    actual_text = models.CharField("実績", max_length=200, blank=True)
    actual_value = StoredDecimalField("実績値", **VALUE_FIELD)
    actual_unit = models.CharField("実績の単位", max_length=10, blank=True)
    actual_note = models.CharField("実績の時点", max_length=100, blank=True)

    previous_actual_text = models.CharField("前年度実績", max_length=200, blank=True)
    previous_actual_value = StoredDecimalField("前年度実績値", **VALUE_FIELD)
    national_average_text = models.CharField("全国平均", max_length=200, blank=True)
    national_average_value = StoredDecimalField("全国平均値", **VALUE_FIELD)
    national_rank = models.PositiveSmallIntegerField(
        "全国順位", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(47)]
    )

    achieved = models.BooleanField("達成", null=True, blank=True)
    suggested_mark = models.CharField(
        "判定結果", max_length=1, choices=Mark.choices, default=Mark.NONE
    )
    margin = StoredDecimalField("目標比の超過率", **VALUE_FIELD)
    evaluation_baseline = StoredDecimalField("評価の基準値", **VALUE_FIELD)
    baseline_source = models.CharField("基準値の出所", max_length=20, blank=True)
    evaluation_problem = models.CharField("評価できない理由", max_length=300, blank=True)
    evaluation_problem_code = models.CharField("評価できない理由の区分", max_length=30, blank=True)

    mark = models.CharField("結果", max_length=1, choices=Mark.choices, default=Mark.NONE)
    mark_source = models.CharField(
        "結果の根拠", max_length=10, choices=MarkSource.choices, default=MarkSource.COMPUTED
    )
    mark_reason = models.TextField("結果の理由", blank=True)
    # 要再確認: 達成 or the suggestion changed under a person's mark since it was set.
    mark_stale = models.BooleanField("結果の要再確認", default=False)
    # 公表後に変更あり: 達成 or the mark changed while the plan was published.
    changed_after_publication = models.BooleanField("公表後に変更あり", default=False)
    note = models.TextField("備考", blank=True)
    # The year figure a progress sheet writes at the end of each series (合計 / 計 / 累計 /
    # 平均), as written; checked against the months where they add up.
    single_year_figure = models.CharField("単月の年度計（記載値）", max_length=100, blank=True)
    single_year_figure_label = models.CharField("単月の年度計の見出し", max_length=10, blank=True)
    cumulative_year_figure = models.CharField("累計の年度計（記載値）", max_length=100, blank=True)
    cumulative_year_figure_label = models.CharField(
        "累計の年度計の見出し", max_length=10, blank=True
    )
    # Year-end outlook (着地見込み) projected from the months entered, by the write path
    # whenever a monthly value changes; pages read it and never project on the fly.
    outlook_value = StoredDecimalField("着地見込み（数値）", **VALUE_FIELD)
    outlook_text = models.CharField("着地見込み", max_length=100, blank=True)
    outlook_mark = models.CharField("見込みの結果", max_length=1, blank=True)
    outlook_basis = models.CharField("着地見込みの算出方法", max_length=300, blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    # Every change through kpis.writes raises it.
    version = models.PositiveIntegerField("版", default=1)

    # Audit trail of targets, actuals and marks (who, when, old → new, UI or import). The
    # outlook is derived from the months, whose own history says what changed.
    OUTLOOK_FIELDS = ("outlook_value", "outlook_text", "outlook_mark", "outlook_basis")
    history = HistoricalRecords(
        excluded_fields=["updated_at", *OUTLOOK_FIELDS],
        history_change_reason_field=models.TextField(null=True),
    )

    # The fields a reader's verdict depends on: a change of one of them under a person's
    # mark makes it stale, and in a published plan flags the KPI.
    VERDICT_FIELDS = ("achieved", "suggested_mark", "mark")
    # What evaluate_texts derives from the texts: shown, never typed (read-only in the
    # admin; in the differences from a publication a change shows once, as its text).
    DERIVED_FIELDS = (
        "target_kind",
        "target_value",
        "target_unit",
        "target_comparator",
        "target_baseline",
        "actual_value",
        "actual_unit",
        "actual_note",
        "previous_actual_value",
        "national_average_value",
        "suggested_mark",
        "margin",
        "evaluation_baseline",
        "baseline_source",
        "evaluation_problem",
        "evaluation_problem_code",
    )
    # What a person sets when they set a mark: a write that changes them sets a fresh mark.
    MARK_FIELDS = ("mark", "mark_source", "mark_reason")

    class Meta:
        ordering = [
            "branch__order",
            "fiscal_year__start_year",
            "measure__pillar__number",
            "measure__sort_key",
            "order",
        ]
        verbose_name = "KPI"
        verbose_name_plural = "KPI"
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "fiscal_year", "indicator"],
                name="kpi_unique_per_branch_year_indicator",
            ),
            models.CheckConstraint(condition=models.Q(mark__in=MARK_VALUES), name="kpi_mark_valid"),
            models.CheckConstraint(
                condition=models.Q(suggested_mark__in=MARK_VALUES), name="kpi_suggested_mark_valid"
            ),
        ]
        indexes = [models.Index(fields=["fiscal_year", "indicator"])]

    def __str__(self):
        return f"{self.branch} {self.fiscal_year.era_label} {self.indicator}"

    def save(self, *args, **kwargs):
        previous = self.previous_year_kpi()
        self.evaluate_texts(previous.actual_text if previous else None)
        super().save(*args, **kwargs)

    @property
    def is_manual_override(self) -> bool:
        """A person's mark that differs from what the rule suggests (shown to readers)."""
        return self.mark_source == self.MarkSource.MANUAL and self.mark != self.suggested_mark

    def previous_year_kpi(self):
        return (
            Kpi.objects.filter(
                branch_id=self.branch_id,
                indicator_id=self.indicator_id,
                fiscal_year__start_year=self.fiscal_year.start_year - 1,
            )
            .only("actual_text")
            .first()
        )

    def evaluate_texts(self, stored_previous_actual_text: str | None = None) -> None:
        """Parse the texts and refresh achievement and the suggested (and computed) mark.

        `stored_previous_actual_text` is the same branch's actual for this indicator in the
        previous fiscal year; bulk imports pass it to avoid one query per row.
        """
        target = parse_target(self.target_text)
        actual = parse_value(self.actual_text)
        previous = parse_value(self.previous_actual_text)
        stored = parse_value(stored_previous_actual_text) if stored_previous_actual_text else None

        self.target_kind = target.kind.value
        self.target_value = target.value
        self.target_unit = target.unit
        self.target_comparator = target.comparator.value if target.comparator else ""
        self.target_baseline = target.baseline
        self.actual_value = actual.value if actual.is_number else None
        self.actual_unit = actual.unit
        self.actual_note = actual.note if actual.is_number else ""
        self.previous_actual_value = previous.value if previous.is_number else None
        average = parse_value(self.national_average_text)
        self.national_average_value = average.value if average.is_number else None

        result = evaluate(
            target,
            actual,
            Direction(self.indicator.direction),
            previous_actual=previous,
            stored_previous_actual=stored,
            excellent_margin=self.fiscal_year.excellent_margin,
        )
        self.achieved = result.achieved
        self.suggested_mark = result.suggested_mark
        self.margin = _as_stored(result.margin)
        self.evaluation_baseline = result.baseline
        self.baseline_source = result.baseline_source
        self.evaluation_problem = result.problem[:300]
        self.evaluation_problem_code = result.problem_code or ""
        if self.mark_source == self.MarkSource.COMPUTED:
            self.mark = result.suggested_mark


def _as_stored(number: Decimal | None) -> Decimal | None:
    """A computed number as its column keeps it (six places), so that evaluating a row
    again yields what is stored; beyond the column it is unbounded (None), as a margin over
    zero is."""
    places = VALUE_FIELD["decimal_places"]
    if number is None or number.adjusted() >= VALUE_FIELD["max_digits"] - places:
        return None
    return number.quantize(Decimal(1).scaleb(-places))


class MonthlyValue(models.Model):
    """A KPI's value for one month, single-month (単月) or cumulative (累計)."""

    class Series(models.TextChoices):
        SINGLE = vocabulary.Series.SINGLE, vocabulary.SERIES_LABELS["single"]
        CUMULATIVE = vocabulary.Series.CUMULATIVE, vocabulary.SERIES_LABELS["cumulative"]

    kpi = models.ForeignKey(
        Kpi, on_delete=models.CASCADE, related_name="monthly_values", verbose_name="KPI"
    )
    month = models.PositiveSmallIntegerField(
        "月", validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    series = models.CharField("系列", max_length=10, choices=Series.choices)
    text = models.CharField("入力値", max_length=100, blank=True)
    value = StoredDecimalField("値", **VALUE_FIELD)
    unit = models.CharField("単位", max_length=10, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="更新者",
    )
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    # Optimistic concurrency: a save must name the version it started from.
    version = models.PositiveIntegerField("版", default=1)

    history = HistoricalRecords(
        excluded_fields=["updated_at"], history_change_reason_field=models.TextField(null=True)
    )

    class Meta:
        ordering = ["kpi", "series", "month"]
        verbose_name = "月次実績"
        verbose_name_plural = "月次実績"
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "month", "series"], name="monthly_value_unique_per_kpi_month_series"
            ),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="monthly_value_month_1_12"
            ),
        ]

    def __str__(self):
        return f"{self.kpi} {self.month}月 {self.get_series_display()}: {self.text}"

    def save(self, *args, **kwargs):
        self.read_text()
        super().save(*args, **kwargs)

    def read_text(self, reading: Reading | None = None) -> None:
        """Refresh value and unit from the text as entered (or from its `reading`, when the
        caller has parsed the text already)."""
        if reading is None:
            reading = parse_value(self.text)
        self.value = reading.value if reading.is_number else None
        self.unit = reading.unit


class MonthlyBreakdown(models.Model):
    """A breakdown series (内訳) a progress sheet shows under a KPI — counts per benefit
    type, say: the months and the year figure as written. Shown, never evaluated."""

    kpi = models.ForeignKey(
        Kpi, on_delete=models.CASCADE, related_name="breakdowns", verbose_name="KPI"
    )
    label = models.CharField("内訳", max_length=100)
    series = models.CharField("系列", max_length=10, choices=MonthlyValue.Series.choices)
    order = models.PositiveSmallIntegerField("表示順", default=0)
    # {"4": "2,657", "5": "2,826", …}: calendar month → the text as written.
    months = models.JSONField("月別の値", default=dict, blank=True)
    year_figure = models.CharField("年度計（記載値）", max_length=100, blank=True)
    year_figure_label = models.CharField("年度計の見出し", max_length=10, blank=True)
    note = models.CharField("備考", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    version = models.PositiveIntegerField("版", default=1)

    history = HistoricalRecords(
        excluded_fields=["updated_at"], history_change_reason_field=models.TextField(null=True)
    )

    class Meta:
        ordering = ["kpi", "series", "order"]
        verbose_name = "月次実績の内訳"
        verbose_name_plural = "月次実績の内訳"
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "series", "label"], name="monthly_breakdown_unique_label"
            )
        ]

    def __str__(self):
        return f"{self.kpi} {self.label}（{self.get_series_display()}）"


class Comment(models.Model):
    """A note on one month of a KPI (コメント), e.g. why the figure dropped; reviewers read
    it beside the value. Comments are never edited, so they need no history of their own."""

    kpi = models.ForeignKey(
        Kpi, on_delete=models.CASCADE, related_name="comments", verbose_name="KPI"
    )
    month = models.PositiveSmallIntegerField(
        "月", validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    body = models.TextField("コメント", max_length=1000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="投稿者",
    )
    created_at = models.DateTimeField("投稿日時", auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "コメント"
        verbose_name_plural = "コメント"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="comment_month_1_12"
            ),
        ]

    def __str__(self):
        return f"{self.kpi} {self.month}月: {self.body[:30]}"


class PublishedSnapshot(models.Model):
    """What readers saw when a document of a branch's year was published.

    Council members read the last snapshot of a document, so a reopened or corrected year
    keeps showing the published version until it is published again. Measures and
    activities keep no history, so the working tables cannot answer "as published".
    """

    class Document(models.TextChoices):
        PLAN = "plan", "事業計画"
        RESULTS = "results", "実施状況"

    plan = models.ForeignKey(
        BranchPlan, on_delete=models.CASCADE, related_name="snapshots", verbose_name="支部事業計画"
    )
    document = models.CharField("文書", max_length=10, choices=Document.choices)
    published_at = models.DateTimeField("公表日時")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="公表者",
    )
    # Field values of the year's measures, activities, KPIs, monthly values and breakdowns.
    data = models.JSONField("内容")

    class Meta:
        ordering = ["plan", "document", "-published_at"]
        verbose_name = "公表時の内容"
        verbose_name_plural = "公表時の内容"
        indexes = [models.Index(fields=["plan", "document", "-published_at"])]

    def __str__(self):
        return f"{self.plan} {self.get_document_display()} {self.published_at:%Y-%m-%d}"
