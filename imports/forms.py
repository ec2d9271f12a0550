from django import forms
from django.conf import settings


class UploadForm(forms.Form):
    file = forms.FileField(
        label="ファイル（.xlsx か .csv）",
        error_messages={
            "required": "取り込むファイルを選んでください。",
            "empty": "ファイルが空です。",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"ファイルが大きすぎます（{upload.size / (1 << 20):.1f}MB）。"
                f"{limit / (1 << 20):.1f}MB以下にするか、ファイルを分けて取り込んでください。"
            )
        return upload


SKIP_VALUE = "-"


class MappingForm(forms.Form):
    """One choice per column the importer did not recognise: a column of the sheet's kind,
    or 取り込まない. Fields are `column_0`, `column_1`, … in the order of `batch.unmapped`."""

    def __init__(self, unmapped: list[dict], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unmapped = unmapped
        for index, entry in enumerate(unmapped):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=f"{entry['sheet']} {entry['column']}列「{entry['header']}」",
                choices=[
                    ("", "選んでください"),
                    *[(key, label) for key, label in entry["options"]],
                    (SKIP_VALUE, "取り込まない"),
                ],
                error_messages={
                    "required": f"{entry['column']}列「{entry['header']}」の項目を選んでください。"
                },
            )

    def clean(self):
        cleaned = super().clean()
        taken: dict[tuple[str, str], str] = {}
        for index, entry in enumerate(self.unmapped):
            key = cleaned.get(f"column_{index}")
            if not key or key == SKIP_VALUE:
                continue
            where = (entry["sheet"], key)
            if where in taken:
                self.add_error(
                    f"column_{index}",
                    f"{taken[where]}列と同じ項目です。1つの項目は1列にしてください。",
                )
            taken.setdefault(where, entry["column"])
        return cleaned

    def answers(self) -> dict[int, str]:
        """Index in `unmapped` → column key, or "" for 取り込まない."""
        values = (self.cleaned_data[f"column_{i}"] for i in range(len(self.unmapped)))
        return {i: "" if value == SKIP_VALUE else value for i, value in enumerate(values)}


class RolloverForm(forms.Form):
    """The year to open (年度更新) and whether the targets are carried."""

    year = forms.IntegerField(
        label="開く年度（西暦の開始年）",
        min_value=2000,
        max_value=2100,
        error_messages={"required": "開く年度を入力してください（例: 2025 = 令和7年度）。"},
    )
    keep_targets = forms.BooleanField(
        label="目標を前年度の記載のまま引き継ぐ（外すと目標は空欄で、支部が設定します）",
        required=False,
    )
