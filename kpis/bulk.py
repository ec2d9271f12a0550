"""Creating tens of thousands of rows, with their history, in a few statements.

Django's `bulk_create` compiles every value of every row in Python: for a year's national
monthly workbook (32,864 values plus as many history rows) that was 723,000 value
conversions and most of the import's time (docs/PERFORMANCE.md). Here each column is
converted to its database form by the field itself, only for the column kinds that need
it and once per distinct value, and the rows go to the driver's `executemany` as one
prepared statement. The history rows are the ones django-simple-history's
`bulk_create_with_history` writes (type "+", with user, date and change reason).
"""

import operator
from collections import Counter
from itertools import chain
from types import SimpleNamespace

from django.conf import settings
from django.db import connections, models, router

# Rows copied into the history per statement (the keys are its parameters).
HISTORY_BATCH = 900

# Columns whose Python values the drivers take as they are: no per-value conversion.
_AS_IS = (
    models.IntegerField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.ForeignKey,
)


def insert(model, objects, *, using=None) -> bool:
    """INSERT the objects' rows (all concrete columns but an auto primary key) and give the
    objects their primary keys; False when the keys could not be told apart from rows other
    writers added meanwhile (then the caller finds the new rows by their natural key).

    The new keys are the ones above the largest key before the insert: ascending in the
    order of the rows, since one statement inserts them one after the other. Exactly as
    many as rows inserted means no other writer's row is among them (SQLite has one
    writer at a time; on PostgreSQL a concurrent insert makes the count differ)."""
    if not objects:
        return True
    using = using or router.db_for_write(model)
    connection = connections[using]
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    stamped = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for f in stamped:  # one time stamp for the whole insert
        stamp = f.pre_save(objects[0], add=True)
        for obj in objects:
            setattr(obj, f.attname, stamp)
    key = model._meta.pk.attname
    manager = model._base_manager.using(using)
    largest = manager.aggregate(top=models.Max(key))["top"] or 0
    _execute(connection, model._meta.db_table, fields, _rows(connection, fields, objects))
    ids = list(manager.filter(**{f"{key}__gt": largest}).order_by(key).values_list(key, flat=True))
    if len(ids) != len(objects):
        return False
    for obj, pk in zip(objects, ids, strict=True):
        setattr(obj, key, pk)
        obj._state.adding, obj._state.db = False, using
    return True


def update(model, objects, names: list[str], *, using=None) -> None:
    """UPDATE the `names` columns of the objects' rows by primary key. Django's
    `bulk_update` builds a CASE WHEN per row and field, which took most of a national
    re-import's time; of the two ways measured (docs/PERFORMANCE.md), one prepared UPDATE
    per row is the faster in SQLite's own process, one joined UPDATE (fewer round trips
    to the server) on PostgreSQL."""
    using = using or router.db_for_write(model)
    if connections[using].vendor == "postgresql":
        update_joined(model, objects, names, using=using)
    else:
        update_each(model, objects, names, using=using)


def update_each(model, objects, names: list[str], *, using=None) -> None:
    """The UPDATE as one prepared statement run for every row (`executemany`)."""
    if not objects:
        return
    using = using or router.db_for_write(model)
    connection = connections[using]
    fields = [model._meta.get_field(name) for name in names]
    key = model._meta.pk
    values = _rows(connection, fields, objects)
    rows = [row + (obj.pk,) for row, obj in zip(values, objects, strict=True)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(key.column)} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def update_joined(model, objects, names: list[str], *, using=None) -> None:
    """The same UPDATE through a temporary table: the new values inserted into it with one
    prepared statement, then one UPDATE … FROM joined on the primary key."""
    if not objects:
        return
    using = using or router.db_for_write(model)
    connection = connections[using]
    fields = [model._meta.get_field(name) for name in names]
    key = model._meta.pk
    values = _rows(connection, fields, objects)
    rows = [(obj.pk, *row) for row, obj in zip(values, objects, strict=True)]
    quote = connection.ops.quote_name
    table, temporary = quote(model._meta.db_table), quote(f"{model._meta.db_table}_changes")
    columns = [quote(f.column) for f in (key, *fields)]
    types = [f.db_type(connection) for f in (key, *fields)]
    # A column's type without its own constraints: the key is the table's primary key.
    types[0] = key.rel_db_type(connection)
    definition = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    assignments = ", ".join(f"{c} = s.{c}" for c in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temporary} ({definition}, PRIMARY KEY ({columns[0]}))"
        )
        try:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {temporary} VALUES ({placeholders})", rows)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {temporary} AS s "
                f"WHERE {table}.{columns[0]} = s.{columns[0]}"
            )
        finally:
            cursor.execute(f"DROP TABLE {temporary}")


def insert_history(
    model, objects, *, user, date, reasons: dict, history_type: str = "+", using=None
) -> None:
    """History rows of `objects` (saved, with primary keys), as simple-history's
    `bulk_history_create` makes them: "+" for created rows, "~" for updated ones;
    `reasons` maps id(object) to its change reason.

    The rows are copied by the database from the rows just written (INSERT … SELECT), with
    the reason most rows share; the few others get theirs in one prepared UPDATE."""
    if not objects or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = model.history.model
    using = using or router.db_for_write(history)
    connection = connections[using]
    quote = connection.ops.quote_name
    tracked = list(history.tracked_fields)
    stamp_fields = [
        history._meta.get_field(name)
        for name in ("history_date", "history_user", "history_type", "history_change_reason")
    ]
    usual = Counter(reasons[id(obj)] for obj in objects).most_common(1)[0][0]
    stamp = SimpleNamespace(
        history_date=date,
        history_user_id=user.pk if user is not None else None,
        history_type=history_type,
        history_change_reason=usual,
    )
    (constants,) = _rows(connection, stamp_fields, [stamp])
    target = ", ".join(quote(f.column) for f in tracked + stamp_fields)
    source = ", ".join(quote(model._meta.get_field(f.name).column) for f in tracked)
    key = model._meta.pk
    table, history_table = quote(model._meta.db_table), quote(history._meta.db_table)
    history_key = quote(history._meta.pk.column)
    others = [(reasons[id(obj)], obj.pk) for obj in objects if reasons[id(obj)] != usual]
    with connection.cursor() as cursor:
        if others:
            cursor.execute(f"SELECT MAX({history_key}) FROM {history_table}")
            (largest,) = cursor.fetchone()
        ids = sorted(obj.pk for obj in objects)
        copy = (
            f"INSERT INTO {history_table} ({target}) "
            f"SELECT {source}, {', '.join(['%s'] * len(constants))} FROM {table} "
        )
        if ids[-1] - ids[0] + 1 == len(ids):  # rows `insert` just created: one run of keys
            cursor.execute(
                f"{copy} WHERE {quote(key.column)} BETWEEN %s AND %s",
                (*constants, ids[0], ids[-1]),
            )
            ids = []
        for start in range(0, len(ids), HISTORY_BATCH):
            batch = ids[start : start + HISTORY_BATCH]
            cursor.execute(
                f"{copy} WHERE {quote(key.column)} IN ({', '.join(['%s'] * len(batch))})",
                (*constants, *batch),
            )
        if others:
            cursor.executemany(
                f"UPDATE {history_table} SET {quote('history_change_reason')} = %s "
                f"WHERE {quote(key.column)} = %s AND {history_key} > %s",
                [(reason, pk, largest or 0) for reason, pk in others],
            )


def _rows(connection, fields, objects) -> list[tuple]:
    getter = operator.attrgetter(*(f.attname for f in fields))
    values = getter if len(fields) > 1 else lambda obj: (getter(obj),)
    converted = [
        (i, convert) for i, f in enumerate(fields) if (convert := _converter(connection, f))
    ]
    if not converted:
        return [values(obj) for obj in objects]
    rows = []
    for obj in objects:
        row = list(values(obj))
        for i, convert in converted:
            row[i] = convert(row[i])
        rows.append(tuple(row))
    return rows


def _converter(connection, field):
    """None for columns the driver takes as they are; else the field's conversion, once
    per value object (`once_per_object`)."""
    if isinstance(field, _AS_IS):
        return None
    return once_per_object(lambda value: field.get_db_prep_save(value, connection))


def once_per_object(convert):
    """`convert` memoised per value object: a workbook's values are the readings of a few
    thousand distinct texts (kpis.writes reads each once) and one time stamp, each object
    repeated thousands of times. (Keyed on the object, not its value: 95.3 and 95.30 are
    equal but keep their own scale.)"""
    converted = {}

    def convert_once(value):
        hit = converted.get(id(value))
        if hit is None:  # the value is kept with its result, so its id is not reused
            hit = converted[id(value)] = (value, convert(value))
        return hit[1]

    return convert_once


def _execute(connection, table: str, fields, rows: list[tuple]) -> None:
    """INSERT the rows in order. PostgreSQL takes them as one array per column in one
    statement (as Django's own bulk_create does there): a prepared INSERT per row costs a
    statement on the server each, the largest part of the import there."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            names = [f"c{i}" for i in range(len(fields))]
            cursor.execute(
                f"INSERT INTO {quote(table)} ({columns}) SELECT {', '.join(names)} "
                f"FROM unnest({arrays}) WITH ORDINALITY AS r({', '.join(names)}, n) ORDER BY n",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        # SQLite: many rows per statement, as many as its parameters allow; a statement
        # per row spent half the insert binding and stepping each one (docs/PERFORMANCE.md).
        # The rows of one VALUES list are inserted in their order.
        insert = f"INSERT INTO {quote(table)} ({columns}) VALUES "
        row = f"({', '.join(['%s'] * len(fields))})"
        size = max(1, connection.features.max_query_params // len(fields))
        whole = len(rows) - len(rows) % size
        if whole:
            cursor.executemany(
                insert + ", ".join([row] * size),
                [tuple(chain.from_iterable(rows[i : i + size])) for i in range(0, whole, size)],
            )
        if whole < len(rows):
            rest = rows[whole:]
            cursor.execute(insert + ", ".join([row] * len(rest)), tuple(chain.from_iterable(rest)))
