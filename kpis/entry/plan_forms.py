"""Forms of the plan editor (計画の編集). They collect what was typed; kpis.entry.plan_edit
decides whether it may be saved."""

from django import forms

from kpis.models import Indicator, Kpi, Measure, Pillar


class PillarChoice(forms.ModelChoiceField):
    def label_from_instance(self, pillar):
        return f"{pillar.number}. {pillar.name}"


class MeasureForm(forms.Form):
    pillar = PillarChoice(
        label="区分",
        queryset=Pillar.objects.order_by("number"),
        error_messages={"required": "区分を選んでください。"},
    )
    number_label = forms.CharField(label="施策番号", max_length=40, required=False)
    title = forms.CharField(
        label="施策名", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    group = forms.CharField(label="担当グループ", max_length=100, required=False)
    stamp = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StampOnlyForm(forms.Form):
    stamp = forms.IntegerField(widget=forms.HiddenInput)


class KpiForm(forms.Form):
    """A KPI of the plan: its indicator when it is added, then its wording, target, number
    in the report (①) and place."""

    indicator = forms.ModelChoiceField(
        label="指標",
        queryset=Indicator.objects.order_by("name"),
        error_messages={"required": "指標を選んでください。"},
    )
    measure = forms.ModelChoiceField(label="施策", queryset=Measure.objects.none())
    description = forms.CharField(
        label="KPI（記載）", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    target_text = forms.CharField(
        label="目標",
        max_length=Kpi._meta.get_field("target_text").max_length,
        required=False,
        help_text="例: 96.5%以上、対前年度以上、対前年度（8,364円）以上、実施",
    )
    activity_number = forms.IntegerField(
        label="事業内容の番号（①…）", min_value=1, max_value=99, required=False
    )
    order = forms.IntegerField(label="表示順", min_value=0, max_value=999, required=False)
    confirm_warnings = forms.BooleanField(label="警告を確認して保存する", required=False)
    stamp = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, measures, adding: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].queryset = measures
        self.fields["measure"].label_from_instance = lambda m: f"{m.number_label} {m.title}"
        if adding:
            del self.fields["measure"], self.fields["order"]
        else:
            del self.fields["indicator"]
