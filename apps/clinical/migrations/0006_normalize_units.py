"""Fill the normalised value, unit, series and flag of the results stored before units were read
(apps/clinical/units.py), and their thing keys: a result whose unit cannot be converted becomes its own series."""

from django.db import migrations

BATCH = 500
FIELDS = ["value_normalized", "unit_normalized", "series_unit", "unit_flag", "thing_key"]


def normalize_units(apps, schema_editor):
    from apps.clinical.models import thing_key_for
    from apps.clinical.units import normalize

    ClinicalFact = apps.get_model("clinical", "ClinicalFact")
    changed = []
    rows = ClinicalFact.objects.filter(kind="observation").only(
        "pk", "code_system", "code", "display", "value_decimal", "unit", *FIELDS
    )
    for fact in rows.iterator(chunk_size=BATCH):
        result = normalize(code_system=fact.code_system, code=fact.code, value=fact.value_decimal, unit=fact.unit)
        fact.value_normalized = result.value_normalized
        fact.unit_normalized = result.unit_normalized
        fact.series_unit = result.series_unit
        fact.unit_flag = str(result.unit_flag)
        # bulk_update does not run the field's pre_save, and a historical model has no ThingKeyField logic.
        fact.thing_key = thing_key_for(fact.code_system, fact.code, fact.display, fact.series_unit)
        changed.append(fact)
        if len(changed) >= BATCH:
            ClinicalFact.objects.bulk_update(changed, FIELDS)
            changed = []
    if changed:
        ClinicalFact.objects.bulk_update(changed, FIELDS)


def forget_units(apps, schema_editor):
    from apps.clinical.models import thing_key_for

    ClinicalFact = apps.get_model("clinical", "ClinicalFact")
    changed = []
    for fact in ClinicalFact.objects.exclude(series_unit="").only("pk", "code_system", "code", "display").iterator():
        fact.thing_key = thing_key_for(fact.code_system, fact.code, fact.display)
        changed.append(fact)
    ClinicalFact.objects.bulk_update(changed, ["thing_key"], batch_size=BATCH)
    ClinicalFact.objects.update(value_normalized=None, unit_normalized="", series_unit="", unit_flag="")


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0005_facts_clinical_truth"),
    ]

    operations = [
        migrations.RunPython(normalize_units, forget_units),
    ]
