"""`field__among=[…]`: IN over many keys the code itself holds (ids it read or assigned).

Django's `in` prepares and adapts each value on its own, about 5 µs apiece: an import
that checks a national workbook's 30,000 values against the database spent more time
building those queries than running them (docs/PERFORMANCE.md). Here the values are
only required to be whole numbers, and go to the driver as they are."""

from django.core.exceptions import EmptyResultSet
from django.db.models import ForeignKey, IntegerField, Lookup


@IntegerField.register_lookup
@ForeignKey.register_lookup
class Among(Lookup):
    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", (*lhs_params, *self.rhs)
