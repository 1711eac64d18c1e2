"""G6: our migrations can be rolled back and re-applied on a database full of content.

`make test` already runs `makemigrations --check --dry-run` (no model change without its
migration). Here the demo is loaded (pages, evidence, publications, roles) plus a staff
user in every role group, every table's rows are counted, and then each of our apps in turn is
migrated back one step (its latest migration and whatever depends on it) and forward again.
Rows in every table that exists before, during and after each app's round trip must be the
same in number; tables that the rollback drops are listed with their row counts, since a
rollback of a migration that creates a table is expected to lose that table's rows (and later
apps start from what the earlier round trips left).

Transactional (the schema changes cannot run inside the test's transaction), so it leaves the
test database migrated to the latest state and empty, like the other transactional tests.
"""

from __future__ import annotations

import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from evidencepress.core import roles

from ..conftest import ensure_wagtail_tree

OUR_APPS = ("core", "literature", "evidence", "articles", "demo", "summaries")
BUDGET_SECONDS = 60


def row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table == "django_migrations" or table.startswith("sqlite_"):
                continue
            cursor.execute(
                f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}"
            )  # names from introspection
            counts[table] = cursor.fetchone()[0]
    return counts


def one_step_back() -> dict[str, str]:
    """For each of our apps with at least two migrations: the migration before its latest."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    targets = {}
    for app in OUR_APPS:
        leaves = loader.graph.leaf_nodes(app)
        if not leaves:
            continue
        parents = [
            parent for parent in loader.graph.node_map[leaves[0]].parents if parent.key[0] == app
        ]
        targets[app] = parents[0].key[1] if parents else "zero"
    return targets


@pytest.mark.django_db(transaction=True)
def test_each_app_rolls_back_and_forward_without_losing_rows() -> None:
    started = time.perf_counter()
    ensure_wagtail_tree()
    call_command("load_demo", stdout=io.StringIO(), stderr=io.StringIO())
    roles.ensure_roles()
    for name in roles.ROLE_NAMES:
        user = get_user_model().objects.create_user(
            f"member-of-{name.lower().replace(' ', '-')}", f"{len(name)}@example.org", "x" * 16
        )
        user.groups.add(Group.objects.get(name=name))
    before = row_counts()
    assert sum(before.values()) > 100, "the demo should have filled the database"

    targets = one_step_back()
    assert set(targets) >= {"core", "literature", "evidence", "articles", "summaries"}
    lost: dict[str, dict[str, int]] = {}
    dropped: dict[str, dict[str, int]] = {}
    try:
        for app, target in targets.items():
            start = row_counts()
            call_command("migrate", app, target, verbosity=0, stdout=io.StringIO())
            during = row_counts()
            dropped[app] = {t: start[t] for t in start if t not in during and start[t]}
            call_command("migrate", verbosity=0, stdout=io.StringIO())
            after = row_counts()
            lost[app] = {
                table: after.get(table, 0) - count
                for table, count in start.items()
                if table in during and after.get(table, 0) != count
            }
    finally:
        call_command("migrate", verbosity=0, stdout=io.StringIO())
    elapsed = time.perf_counter() - started

    changed = {app: tables for app, tables in lost.items() if tables}
    tables = len(before)
    rows = sum(before.values())
    summary = (
        f"{len(targets)} apps rolled back one step and forward ({targets}); {tables} tables, "
        f"{rows} rows; tables with changed row counts: {changed or 0}; rows in tables the "
        f"rollbacks drop: {({a: d for a, d in dropped.items() if d}) or 0}; {elapsed:.1f} s"
    )
    assert changed == {}, summary
    assert elapsed < BUDGET_SECONDS, summary
    print(f"G6: {summary}")  # the measured figure, for the test log
