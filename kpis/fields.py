import decimal

from django.db import models
from django.db.models.functions import Cast
from django.utils.functional import cached_property


class StoredDecimalField(models.DecimalField):
    """A decimal column that reads any stored number without raising.

    SQLite keeps whatever number it is given, also one with more digits than
    `max_digits` (written by an older version, a bulk path or by hand). Django's
    SQLite converter quantizes every value read with this field's `context`, and
    the default context raises InvalidOperation for such a value, so one bad row
    made every page that loads it fail. Here the context does not trap, so the
    converter gives NaN, and `from_db_value` turns anything that is not a finite
    number within `max_digits` into None: the page shows the row's text and no
    computation uses the number. `find_out_of_range_values` lists such rows.
    """

    @cached_property
    def context(self):
        return decimal.Context(prec=self.max_digits, traps=[])

    def from_db_value(self, value, expression, connection):
        if isinstance(value, decimal.Decimal) and not fits(
            value, self.max_digits, self.decimal_places
        ):
            return None
        return value


def fits(value, max_digits, decimal_places):
    """Whether a finite decimal has at most `max_digits - decimal_places` integer digits."""
    return value.is_finite() and (value == 0 or value.adjusted() < max_digits - decimal_places)


def out_of_range(model):
    """(row, field, stored number as text) for every value of `model` that does not fit its
    StoredDecimalField, also infinities (NaN counts on PostgreSQL, where it sorts highest)."""
    fields = [field for field in model._meta.fields if isinstance(field, StoredDecimalField)]
    found = []
    for field in fields:
        limit = decimal.Decimal(10) ** (field.max_digits - field.decimal_places)
        rows = (
            model._default_manager.filter(
                models.Q(**{f"{field.name}__gte": limit})
                | models.Q(**{f"{field.name}__lte": -limit})
            )
            .annotate(stored=Cast(field.name, models.CharField()))
            .order_by("pk")
        )
        found.extend((row, field, row.stored) for row in rows)
    return found
