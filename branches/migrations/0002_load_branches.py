from django.db import migrations

from branches.prefectures import PREFECTURES


def load_branches(apps, schema_editor):
    Branch = apps.get_model("branches", "Branch")
    for order, prefecture in enumerate(PREFECTURES, start=1):
        Branch.objects.update_or_create(
            code=prefecture.code,
            defaults={
                "name": prefecture.branch_name,
                "prefecture": prefecture.name,
                "region": prefecture.region,
                "order": order,
            },
        )


def unload_branches(apps, schema_editor):
    Branch = apps.get_model("branches", "Branch")
    Branch.objects.filter(code__in=[p.code for p in PREFECTURES]).delete()


class Migration(migrations.Migration):
    dependencies = [("branches", "0001_initial")]

    operations = [migrations.RunPython(load_branches, unload_branches)]
