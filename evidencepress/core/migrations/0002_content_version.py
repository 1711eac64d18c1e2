"""The content-version row and the triggers that keep it (see core/content_version.py)."""

from django.db import migrations, models

from evidencepress.core.content_version import install_triggers, remove_triggers


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_audit_event"),
        ("evidence", "0005_evidence_fact"),
        ("articles", "0002_publishing_pages"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [
        # Unmanaged model (flush leaves it alone): the table is created here, the same SQL on
        # SQLite and PostgreSQL.
        migrations.RunSQL(
            "CREATE TABLE core_contentversion (table_name varchar(63) NOT NULL PRIMARY KEY, "
            "epoch varchar(32) NOT NULL, version bigint NOT NULL)",
            "DROP TABLE core_contentversion",
        ),
        migrations.CreateModel(
            name="ContentVersion",
            fields=[
                (
                    "table_name",
                    models.CharField(max_length=63, primary_key=True, serialize=False),
                ),
                ("epoch", models.CharField(max_length=32)),
                ("version", models.BigIntegerField()),
            ],
            options={"managed": False, "db_table": "core_contentversion"},
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
