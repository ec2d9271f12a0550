from django import template

from kpis.entry import services

register = template.Library()


@register.simple_tag
def step_notice(plan):
    """The last return or reopening of `plan` with its reason, or None (the transition
    table says which steps the branch is told of)."""
    return services.step_notice(plan)
