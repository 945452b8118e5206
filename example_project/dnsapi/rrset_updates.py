"""Changing many RRsets in one statement (a bulk request's changed RRsets).

Django's ``bulk_update`` builds one ``CASE WHEN pk = … THEN …`` per row and field: for 1000
RRsets that is most of a bulk request's time. On PostgreSQL and SQLite (3.33+) one
``UPDATE … FROM (VALUES …)`` sets each row's values instead; other databases keep
``bulk_update``. The rows are those the request locked (``select_for_update``).
"""

from django.db import connection

from .models import RRset

FIELDS = ("ttl", "records", "touched")
#: Rows per statement: 4 parameters each stays below every supported parameter limit.
BATCH = 1000


def update_rrsets(rrsets):
    """Store ``ttl``, ``records`` and ``touched`` of ``rrsets`` (saved RRsets)."""
    if connection.vendor not in ("postgresql", "sqlite"):
        RRset.objects.bulk_update(rrsets, FIELDS)
        return
    records = RRset._meta.get_field("records")
    touched = RRset._meta.get_field("touched")
    # The RRsets of one request share their ``touched``: it is converted once.
    touched_values = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rrsets), BATCH):
            batch = rrsets[start : start + BATCH]
            params = []
            for rrset in batch:
                if rrset.touched not in touched_values:
                    touched_values[rrset.touched] = touched.get_db_prep_save(
                        rrset.touched, connection
                    )
                params += [
                    rrset.pk,
                    rrset.ttl,
                    records.get_db_prep_save(rrset.records, connection),
                    touched_values[rrset.touched],
                ]
            cursor.execute(_statement(len(batch)), params)


def _statement(rows):
    quote = connection.ops.quote_name
    table = quote(RRset._meta.db_table)
    names = [quote(RRset._meta.pk.column), *(quote(name) for name in FIELDS)]
    values = ", ".join(["(%s, %s, %s, %s)"] * rows)
    if connection.vendor == "postgresql":
        return (
            f"UPDATE {table} AS r SET {names[1]} = v.ttl::integer, "
            f"{names[2]} = v.records::jsonb, {names[3]} = v.touched::timestamptz "
            f"FROM (VALUES {values}) AS v(id, ttl, records, touched) "
            f"WHERE r.{names[0]} = v.id::bigint"
        )
    return (
        f"UPDATE {table} SET {names[1]} = v.column2, {names[2]} = v.column3, "
        f"{names[3]} = v.column4 FROM (VALUES {values}) AS v "
        f"WHERE {table}.{names[0]} = v.column1"
    )
