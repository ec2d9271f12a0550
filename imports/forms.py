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
