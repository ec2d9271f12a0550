"""`{{ kpi.target_text|as_written }}`: a stored value text as every page shows it."""

from django import template

from kpis import notation

register = template.Library()

register.filter("as_written", notation.as_written)
