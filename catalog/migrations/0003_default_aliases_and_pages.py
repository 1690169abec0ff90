from django.db import migrations


def load(apps, schema_editor):
    from catalog.aliases import default_aliases
    from catalog.content import DEFAULT_PAGES

    Alias = apps.get_model("catalog", "DestinationAlias")
    Alias.objects.bulk_create(
        [Alias(alias=alias, code=code, geography=geo) for alias, code, geo in default_aliases()],
        ignore_conflicts=True,
    )
    Page = apps.get_model("catalog", "ContentPage")
    for slug, page in DEFAULT_PAGES.items():
        Page.objects.get_or_create(slug=slug, defaults=page)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_aliases_and_pages")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
