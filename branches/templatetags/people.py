"""`{% load people %}{{ user|person_name }}`: a person's name in Japanese order (姓 名)."""

from django import template

from branches.people import display_name

register = template.Library()


@register.filter
def person_name(user) -> str:
    return display_name(user)
