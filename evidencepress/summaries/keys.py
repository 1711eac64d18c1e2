"""Key rotation for the encrypted columns of summary requests."""

from __future__ import annotations

from django.db import connection, transaction

from evidencepress.core.audit import audit_record

from .crypto import EncryptedTextField, EncryptionUnavailable, rotate_token
from .models import SummaryRequest


def _encrypted_columns() -> list[str]:
    return [
        field.column
        for field in SummaryRequest._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


@transaction.atomic
def summary_requests_rotate() -> int:
    """Re-encrypt every encrypted column of every request with the current key.

    Works on the stored tokens (MultiFernet.rotate), so values are never rebuilt from Python
    objects. All or nothing: a token no configured key can read stops the run, naming the row,
    and nothing is changed.
    """
    columns = _encrypted_columns()
    table = connection.ops.quote_name(SummaryRequest._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    count = 0
    with connection.cursor() as cursor:
        # Identifiers come from the model's own field list, quoted by the backend: no user input.
        cursor.execute(f"SELECT id, public_id, {quoted} FROM {table} ORDER BY id")  # noqa: S608  # nosemgrep
        rows = cursor.fetchall()
        for pk, public_id, *tokens in rows:
            updates = {}
            for column, token in zip(columns, tokens, strict=True):
                if not token:
                    continue
                try:
                    updates[column] = rotate_token(token)
                except EncryptionUnavailable as error:
                    raise EncryptionUnavailable(
                        f"request {str(public_id)[:8]}, column {column}: {error}"
                    ) from error
            if updates:
                assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in updates)
                cursor.execute(  # nosemgrep
                    f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
                    [*updates.values(), pk],
                )
                count += 1
    audit_record(action="summary_request.keys_rotated", detail={"rows": count})
    return count
