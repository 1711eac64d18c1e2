"""Turn the review workflow's plain group approval tasks into SignOffTasks, in place.

The task rows keep their ids, names, groups and every task state (so a page half way through the
review stays there); only their type changes. Nothing happens where the workflow was never set
up (it is created by `setup_review_workflow` or `load_demo`, not by migrations).
"""

from django.db import migrations

WORKFLOW_NAME = "Clinical review and editorial sign-off"
STEPS = {"Clinical review": "clinical_review", "Editorial sign-off": "editorial_sign_off"}


def convert(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    Task = apps.get_model("wagtailcore", "Task")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    SignOffTask = apps.get_model("articles", "SignOffTask")
    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).first()
    if workflow is None:
        return
    content_type, _ = ContentType.objects.get_or_create(app_label="articles", model="signofftask")
    old_table = GroupApprovalTask._meta.db_table
    old_groups = GroupApprovalTask.groups.through
    for task_id in WorkflowTask.objects.filter(workflow=workflow).values_list("task_id", flat=True):
        task = Task.objects.get(pk=task_id)
        step = STEPS.get(task.name)
        if step is None or SignOffTask.objects.filter(pk=task.pk).exists():
            continue
        groups = list(
            old_groups.objects.filter(groupapprovaltask_id=task.pk).values_list(
                "group_id", flat=True
            )
        )
        new = SignOffTask(
            task_ptr_id=task.pk,
            name=task.name,
            active=task.active,
            content_type_id=content_type.pk,
            step=step,
        )
        new.save_base(raw=True)  # the child row only: the Task row stays as it is
        new.groups.set(groups)
        Task.objects.filter(pk=task.pk).update(content_type=content_type)
        old_groups.objects.filter(groupapprovaltask_id=task.pk).delete()
        quoted = schema_editor.quote_name
        schema_editor.execute(
            f"DELETE FROM {quoted(old_table)} WHERE {quoted('task_ptr_id')} = %s", [task.pk]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0005_signoff_task"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(convert, migrations.RunPython.noop)]
