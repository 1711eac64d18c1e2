"""A database cache whose `incr` is atomic, for counters shared by every process.

Django's `DatabaseCache` implements `incr` as a read followed by a write, so two processes
incrementing one key at the same moment can both read 4 and both write 5. `CounterDatabaseCache`
reads the row and writes the new value in one transaction that holds the row: PostgreSQL locks
it (`SELECT … FOR UPDATE`), SQLite's `IMMEDIATE` transactions (settings.SQLITE_OPTIONS) take the
write lock when they begin. A count need not survive a power cut, so its commit does not wait
for the disk (`_quick_commit`): with SQLite's synchronous=FULL an API GET would otherwise pay
an fsync (about 4 ms here; bench/ratelimit.py). Used for the `ratelimit` cache alias when no
Redis is configured (Redis increments atomically by itself); see `core.ratelimit`.

The SQL is built like Django's own DatabaseCache: only quoted identifiers (the table named in
settings) are formatted in; every value is a query parameter.
"""

from __future__ import annotations

import base64
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.db.models import DateTimeField, Expression
from django.utils.timezone import now as tz_now


class CounterDatabaseCache(DatabaseCache):  # type: ignore[misc]  # Django has no type stubs here
    """`DatabaseCache` with an atomic `incr` and a way to delete expired rows."""

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        # Only a transaction of its own may skip the wait: never someone else's writes.
        own_transaction = not connection.in_atomic_block
        with (
            _quick_commit(connection),
            transaction.atomic(using=db),
            connection.cursor() as cursor,
        ):
            if own_transaction and connection.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            value_column, key_column = quote_name("value"), quote_name("cache_key")
            select = f"SELECT {value_column}, {quote_name('expires')} FROM {table} WHERE "  # noqa: S608
            cursor.execute(f"{select}{key_column} = %s{lock}", [key])  # nosemgrep (identifiers)
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key '{key}' not found.")
            stored = base64.b64decode(connection.ops.process_clob(row[0]).encode())
            value = pickle.loads(stored)  # noqa: S301 (written by this cache, as DatabaseCache does)
            value += delta
            pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            update = f"UPDATE {table} SET {value_column} = %s WHERE {key_column} = %s"  # noqa: S608
            cursor.execute(update, [pickled, key])
        return value

    def delete_expired(self) -> int:
        """Delete the rows whose time is up; returns how many."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        moment = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        with connection.cursor() as cursor:
            # Identifiers only; the moment is a parameter.
            delete = f"DELETE FROM {quote_name(self._table)} WHERE {quote_name('expires')} < %s"  # noqa: S608
            cursor.execute(delete, [moment])
            return int(cursor.rowcount)

    @staticmethod
    def _expired(connection: Any, expires: Any) -> bool:
        expression = Expression(output_field=DateTimeField())
        converters = connection.ops.get_db_converters(expression)
        for converter in converters + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return bool(expires < tz_now())


@contextmanager
def _quick_commit(connection: Any) -> Iterator[None]:
    """On SQLite, commit without waiting for the disk (synchronous=NORMAL, still crash-safe in
    WAL mode; a power cut may lose the last counts). The pragma cannot change inside a
    transaction, so nothing is changed when one is open."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        (previous,) = cursor.fetchone()
        cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={int(previous)}")  # nosemgrep (an integer)
