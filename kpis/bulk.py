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
from types import SimpleNamespace

from django.conf import settings
from django.db import connections, models, router

# Columns whose Python values the drivers take as they are: no per-value conversion.
_AS_IS = (
    models.IntegerField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.ForeignKey,
)


def insert(model, objects, *, using=None) -> None:
    """INSERT the objects' rows (all concrete columns but an auto primary key).

    Primary keys are not read back: callers find the new rows by their natural key.
    """
    if not objects:
        return
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
    _execute(connection, model._meta.db_table, fields, _rows(connection, fields, objects))


def update(model, objects, names: list[str], *, using=None) -> None:
    """UPDATE the `names` columns of the objects' rows by primary key, in one prepared
    statement: Django's `bulk_update` builds a CASE WHEN per row and field instead, which
    took most of a national re-import's time (docs/PERFORMANCE.md)."""
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


def insert_history(
    model, objects, *, user, date, reasons: dict, history_type: str = "+", using=None
) -> None:
    """History rows of `objects` (saved, with primary keys), as simple-history's
    `bulk_history_create` makes them: "+" for created rows, "~" for updated ones;
    `reasons` maps id(object) to its change reason."""
    if not objects or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = model.history.model
    using = using or router.db_for_write(history)
    connection = connections[using]
    tracked = list(history.tracked_fields)
    stamp_fields = [
        history._meta.get_field(name)
        for name in ("history_date", "history_user", "history_type", "history_change_reason")
    ]
    stamp = SimpleNamespace(
        history_date=date,
        history_user_id=user.pk if user is not None else None,
        history_type=history_type,
        history_change_reason="",
    )
    (constants,) = _rows(connection, stamp_fields, [stamp])
    constants = constants[:-1]  # the reason is per row
    rows = [
        row + constants + (reasons[id(obj)],)
        for row, obj in zip(_rows(connection, tracked, objects), objects, strict=True)
    ]
    fields = tracked + stamp_fields
    _execute(connection, history._meta.db_table, fields, rows)


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
    """None for columns the driver takes as they are; else the field's conversion,
    memoised: a workbook repeats a few hundred values (and one `now`) thousands of times.
    The key keeps the repr so that 95.3 and 95.30 keep their own scale."""
    if isinstance(field, _AS_IS):
        return None
    converted = {}

    def convert(value):
        key = (value, repr(value))
        if key not in converted:
            converted[key] = field.get_db_prep_save(value, connection)
        return converted[key]

    return convert


def _execute(connection, table: str, fields, rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {quote(table)} ({columns}) VALUES ({placeholders})", rows)
