import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('kpis', '0007_national_pillars_data'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='measure',
            name='measure_unique_per_branch_year_pillar',
        ),
        migrations.RemoveConstraint(
            model_name='pillar',
            name='pillar_unique_number_name',
        ),
        migrations.RemoveField(
            model_name='measure',
            name='number',
        ),
        migrations.AlterField(
            model_name='pillar',
            name='number',
            field=models.PositiveSmallIntegerField(unique=True, verbose_name='番号'),
        ),
        migrations.AddConstraint(
            model_name='measure',
            constraint=models.UniqueConstraint(fields=('branch', 'fiscal_year', 'pillar', 'sort_key'), name='measure_unique_per_branch_year_pillar'),
        ),
        migrations.AddField(
            model_name='historicalmonthlybreakdown',
            name='history_user',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='historicalmonthlybreakdown',
            name='kpi',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='kpis.kpi'),
        ),
        migrations.AddField(
            model_name='monthlybreakdown',
            name='kpi',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='breakdowns', to='kpis.kpi'),
        ),
        migrations.AddConstraint(
            model_name='monthlybreakdown',
            constraint=models.UniqueConstraint(fields=('kpi', 'series', 'label'), name='monthly_breakdown_unique_label'),
        ),
    ]
