"""Filters of the reading pages: the KPI table's FilterSet and the home page's choices."""

import django_filters
from django import forms

from branches.models import Branch, Region
from kpis import search, vocabulary
from kpis.access import visible
from kpis.models import FiscalYear, Indicator, Kpi, Mark, Measure, Pillar

ACHIEVED_CHOICES = [
    ("yes", vocabulary.ACHIEVED_WORDS[True]),
    ("no", vocabulary.ACHIEVED_WORDS[False]),
    ("unknown", "判定なし"),
]
FLAG_CHOICES = [("yes", "高"), ("no", "高でない")]
# The texts the KPI table's keyword searches.
SEARCHED_FIELDS = (
    "indicator__name",
    "description",
    "measure__title",
    "target_text",
    "actual_text",
    "mark_reason",
    "note",
    "branch__name",
)


class HomeForm(forms.Form):
    """Year and region block of the home table; both optional, both checked."""

    year = forms.TypedChoiceField(label="年度", coerce=int, required=False)
    region = forms.ChoiceField(
        label="地域ブロック", choices=[("", "すべて"), *Region.choices], required=False
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y.start_year, y.label) for y in years]
        self.fields["year"].error_messages["invalid_choice"] = (
            "年度「%(value)s」は登録されていません。"
        )
        self.fields["region"].error_messages["invalid_choice"] = (
            "地域ブロック「%(value)s」はありません。"
        )

    def cleaned_or_default(self, name, default):
        """The field's value when it is valid, else `default` (errors are shown beside)."""
        if not self.is_bound or name in self.errors:
            return default
        return self.cleaned_data.get(name) or default


class KpiFilter(django_filters.FilterSet):
    """Filters of the KPI table; choices are read once per request in __init__."""

    fiscal_year = django_filters.ChoiceFilter(field_name="fiscal_year__start_year", label="年度")
    branch = django_filters.ChoiceFilter(field_name="branch__code", label="支部")
    region = django_filters.ChoiceFilter(
        field_name="branch__region", label="地域ブロック", choices=Region.choices
    )
    pillar = django_filters.ChoiceFilter(field_name="measure__pillar__number", label="区分")
    group = django_filters.ChoiceFilter(field_name="measure__group", label="担当グループ")
    indicator = django_filters.ChoiceFilter(field_name="indicator__slug", label="指標")
    mark = django_filters.ChoiceFilter(label="結果", choices=Mark.choices)
    achieved = django_filters.ChoiceFilter(
        label="達成", choices=ACHIEVED_CHOICES, method="filter_achieved"
    )
    important = django_filters.ChoiceFilter(
        field_name="measure__is_important", label="重要度", choices=FLAG_CHOICES, method="flag"
    )
    difficult = django_filters.ChoiceFilter(
        field_name="measure__is_difficult", label="困難度", choices=FLAG_CHOICES, method="flag"
    )
    q = django_filters.CharFilter(
        label="キーワード",
        method="search",
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "指標・施策・目標・実績"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Pillars, groups and indicators that appear only in plans the reader may not read
        # (drafts) are not offered: their names are not published yet.
        measures = visible(self.request.user, Measure.objects.all())
        kpis = visible(self.request.user, Kpi.objects.all())
        choices = {
            "fiscal_year": [(y.start_year, y.label) for y in FiscalYear.objects.all()],
            "branch": [(b.code, f"{b.code} {b.name}") for b in Branch.objects.all()],
            "pillar": _pillar_choices(measures),
            "group": [
                (g, g)
                for g in measures.exclude(group="")
                .order_by("group")
                .values_list("group", flat=True)
                .distinct()
            ],
            "indicator": list(
                Indicator.objects.filter(pk__in=kpis.values("indicator_id"))
                .order_by("name")
                .values_list("slug", "name")
            ),
        }
        for name, values in choices.items():
            self.filters[name].extra["choices"] = values
        for choice_filter in self.filters.values():
            if isinstance(choice_filter, django_filters.ChoiceFilter):
                choice_filter.extra["empty_label"] = "すべて"

    def filter_achieved(self, queryset, name, value):
        achieved = {"yes": True, "no": False, "unknown": None}[value]
        if achieved is None:
            return queryset.filter(achieved__isnull=True)
        return queryset.filter(achieved=achieved)

    def flag(self, queryset, name, value):
        return queryset.filter(**{name: value == "yes"})

    def search(self, queryset, name, value):
        """Rows holding every word of `value`, however either side is typed (`９６．５％` finds
        `96.5%`, `ｼﾞｪﾈﾘｯｸ` finds ジェネリック): the texts are compared in search.normalise's form,
        which the databases cannot compute, so the rows' texts are read and matched here."""
        query_words = search.words(value)
        if not query_words:
            return queryset
        rows = list(queryset.order_by().values_list("pk", *SEARCHED_FIELDS))
        found = search.matching(rows, query_words)
        if len(found) * 2 <= len(rows):
            return queryset.filter(pk__in=found)
        # Most rows match: name the others, so the list stays within the database's limit
        # on query parameters whatever the number of rows.
        found = set(found)
        return queryset.exclude(pk__in=[row[0] for row in rows if row[0] not in found])


def _pillar_choices(measures):
    """One choice per national pillar of the given measures."""
    pillars = Pillar.objects.filter(pk__in=measures.values("pillar_id")).order_by("number")
    return [(number, f"{number}. {name}") for number, name in pillars.values_list("number", "name")]
