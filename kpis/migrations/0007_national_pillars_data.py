from django.db import migrations


NATIONAL_PILLARS = {1: "基盤的保険者機能", 2: "戦略的保険者機能", 3: "組織・運営体制"}
PILLAR_WORDS = ((3, ("組織", "運営体制")), (1, ("基盤",)), (2, ("戦略",)))


def to_labels_and_national_pillars(apps, schema_editor):
    """Measure numbers become labels "(n)"; pillars become the three national ones, each
    measure keeping the wording its plan used. (The rules are copied from kpis.numbering as
    they were when this migration was written.)"""
    import unicodedata

    Pillar = apps.get_model("kpis", "Pillar")
    Measure = apps.get_model("kpis", "Measure")
    for measure in Measure.objects.all():
        measure.number_label = f"({measure.number})"
        measure.sort_key = f"{measure.number:03d}"
        measure.save(update_fields=["number_label", "sort_key"])
    old = list(Pillar.objects.all())
    national = {}
    for number, name in NATIONAL_PILLARS.items():
        national[number] = Pillar.objects.create(number=100 + number, name=name)
    for pillar in old:
        text = unicodedata.normalize("NFKC", pillar.name)
        number = next(
            (n for n, words in PILLAR_WORDS if any(w in text for w in words)),
            pillar.number if pillar.number in NATIONAL_PILLARS else 1,
        )
        Measure.objects.filter(pillar=pillar).update(
            pillar=national[number], pillar_label=pillar.name
        )
        pillar.delete()
    for number, pillar in national.items():
        pillar.number = number
        pillar.save(update_fields=["number"])


class Migration(migrations.Migration):
    dependencies = [
        ('kpis', '0006_national_pillars_measure_labels'),
    ]

    operations = [
        migrations.RunPython(to_labels_and_national_pillars, migrations.RunPython.noop),
    ]
