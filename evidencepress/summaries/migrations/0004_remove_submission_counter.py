"""Submission counts moved to the shared rate-limit store (core.ratelimit): drop their table.

The model's content type and permissions go with it, so that rolling this migration back and
forward again leaves the database as it was (tests/security/test_migrations_safe.py).
"""

from django.db import migrations


def delete_content_type(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    # Deleting the content type deletes its permissions too (a foreign key with CASCADE).
    content_types.objects.using(schema_editor.connection.alias).filter(
        app_label="summaries", model="submissioncounter"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("summaries", "0003_submission_counter_send_claim"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.DeleteModel(name="SubmissionCounter"),
        migrations.RunPython(delete_content_type, migrations.RunPython.noop),
    ]
