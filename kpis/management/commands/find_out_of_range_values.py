from django.core.management.base import BaseCommand, CommandError

from kpis.fields import out_of_range
from kpis.models import Kpi, MonthlyValue

# The text each stored number was read from (derived numbers name the text they came from).
SOURCE_TEXT = {
    "target_value": "target_text",
    "target_baseline": "target_text",
    "actual_value": "actual_text",
    "previous_actual_value": "previous_actual_text",
    "national_average_value": "national_average_text",
    "margin": "actual_text",
    "evaluation_baseline": "previous_actual_text",
    "value": "text",
}


class Command(BaseCommand):
    help = (
        "KPIと月次実績（変更履歴を含む）から、数値の列に収まらない保存値（絶対値が10の14乗以上）を"
        "探して、表・行・項目・入力値を示します。見つかれば終了コード1で終わります。"
    )

    def handle(self, *args, **options):
        found = 0
        for model in (Kpi, Kpi.history.model, MonthlyValue, MonthlyValue.history.model):
            for row, field, stored in out_of_range(model):
                found += 1
                self.stdout.write(self.describe(model, row, field, stored))
        if found:
            raise CommandError(
                f"範囲外の値が{found}件あります。入力値を直してください"
                "（変更履歴の行は記録のため残ります。ページには入力値が表示されます）。",
                returncode=1,
            )
        self.stdout.write("範囲外の値はありません。")

    def describe(self, model, row, field, stored) -> str:
        text = getattr(row, SOURCE_TEXT.get(field.name, ""), "")
        live = getattr(model, "instance_type", None)  # set on simple_history's models
        if live is None:
            table, where = model._meta.verbose_name, f"id={row.pk}"
        else:
            name = live._meta.verbose_name
            table, where = f"{name}の変更履歴", f"history_id={row.history_id}（{name} id={row.id}）"
        return (
            f"{model._meta.db_table}（{table}）{where} "
            f"項目「{field.verbose_name}」({field.name}) 入力値「{text}」 保存値 {stored}"
        )
