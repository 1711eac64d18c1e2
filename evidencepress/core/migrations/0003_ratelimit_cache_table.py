"""Create the table of every database cache alias (the `ratelimit` store, core/ratelimit.py).

`createcachetable` creates what is missing and leaves existing tables alone; with Redis
configured there is nothing to create. Running it here means `make run`, `make test`, CI and a
deployment's `migrate` all have the table without a further step.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_content_version")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
