from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from imports.pipeline import analyse, import_file, read_and_validate, summary_lines
from kpis import snapshots
from kpis.models import BranchPlan, Indicator, PublishedSnapshot

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"

# The plans whose documents the demo transcribes as reported to the councils (branch code,
# fiscal year). Chiba's FY2024 document is a draft plan (事業計画（案）): its results stay a
# draft, the plan itself goes to the council before the year (PLAN_PUBLICATIONS).
PUBLISHED_PLANS = [("11", 2023), ("10", 2023), ("12", 2022), ("12", 2023)]
PLAN_PUBLICATIONS = [("12", 2024)]

# Indicators the branches do not report month by month: head office fills them at year end
# (health checks and guidance from the checkup data, 一者応札 from the year's tenders,
# 健康保険委員 from the year-end register, バイオシミラー from the claims data); the demo has
# no monthly values for them, and the entry progress never counts them as missing.
YEARLY_INDICATORS = (
    "生活習慣病予防健診実施率",
    "事業者健診データ取得率",
    "被扶養者の特定健診実施率",
    "特定健診実施率（被保険者・被扶養者計）",
    "被保険者の特定保健指導実施率",
    "被扶養者の特定保健指導実施率",
    "受診勧奨後3か月以内の医療機関受診割合",
    "健診受診月から10か月以内の医療機関受診割合",
    "一般競争入札に占める一者応札案件の割合",
    "健康保険委員の委嘱事業所数",
    "健康保険委員委嘱事業所の被保険者割合",
    "バイオシミラー80%以上置換成分数の割合",
)


class Command(BaseCommand):
    help = (
        "デモ用のブック（imports/demo/*.xlsx）を通常の取り込みと同じ手順で取り込み、"
        "報告済みの年度の支部事業計画を公表します。何度実行しても結果は同じです。"
    )

    def handle(self, *args, **options):
        for path, content in self._in_order():
            analysis = analyse(content, path.name)
            if analysis.problems:
                for problem in analysis.problems:
                    self.stderr.write(f"{path.name}: {problem}")
                raise CommandError(f"デモのブック {path.name} にエラーがあります。")
            if not analysis.plan.has_changes:
                self.stdout.write(f"{path.name}: 変更なし")
                continue
            # The demo transcribes real documents: what they contain is accepted, and any
            # warning is shown (and recorded in history as confirmed).
            batch, analysis = import_file(content, path.name, confirm_warnings=True)
            if batch is None:
                raise CommandError(f"デモのブック {path.name} を取り込めませんでした。")
            self.stdout.write(f"{path.name}: {batch.change_reason}")
            for warning in analysis.warnings:
                self.stdout.write(f"  警告: {warning}")
            for line in summary_lines(analysis):
                self.stdout.write(f"  {line}")
        call_command("refresh_outlooks", stdout=self.stdout)  # data loaded before outlooks
        published = self._publish()
        plans = self._publish_plans()
        self._mark_yearly_indicators()
        message = f"デモデータを読み込みました（公表 {published} 件、事業計画の公表 {plans} 件）。"
        self.stdout.write(self.style.SUCCESS(message))

    def _in_order(self):
        """KPI workbooks in year order, then monthly ones (those need the KPIs)."""
        found = []
        for path in sorted(DEMO_DIR.glob("*.xlsx")):
            content = path.read_bytes()
            validated = read_and_validate(content, path.name)
            years = [m.year for m in validated.measures.values()]
            years += [m.year for m in validated.monthly]
            found.append((validated.kind == "monthly", min(years, default=0), path, content))
        if not found:
            raise CommandError(f"デモのブックが見つかりません: {DEMO_DIR}")
        return [(path, content) for *_, path, content in sorted(found)]

    def _mark_yearly_indicators(self) -> None:
        Indicator.objects.filter(name__in=YEARLY_INDICATORS).update(reported_monthly=False)

    @transaction.atomic
    def _publish(self) -> int:
        now = timezone.now()
        count = 0
        for code, year in PUBLISHED_PLANS:
            plan = (
                BranchPlan.objects.filter(branch__code=code, fiscal_year__start_year=year)
                .exclude(status=BranchPlan.Status.PUBLISHED)
                .first()
            )
            if plan is None:
                continue
            plan.status = BranchPlan.Status.PUBLISHED
            plan.published_at = now
            plan._change_reason = "デモデータの公表"
            plan.save()
            # Readers read what was published, as after the workflow's publication.
            snapshots.capture(plan, PublishedSnapshot.Document.RESULTS, None, now)
            count += 1
        return count

    @transaction.atomic
    def _publish_plans(self) -> int:
        now = timezone.now()
        count = 0
        for code, year in PLAN_PUBLICATIONS:
            plan = (
                BranchPlan.objects.filter(branch__code=code, fiscal_year__start_year=year)
                .filter(plan_published_at__isnull=True)
                .first()
            )
            if plan is None:
                continue
            plan.plan_published_at = now
            plan._change_reason = "デモデータの事業計画の公表"
            plan.save()
            snapshots.capture(plan, PublishedSnapshot.Document.PLAN, None, now)
            count += 1
        return count
