"""`{% load money %}`: `{{ amount|money:currency }}` prints minor units with cynco.money's
formatter (a dash for an empty amount), `{{ value|quantity }}` a usage quantity."""

from django import template

from cynco.money import show_money, show_quantity

register = template.Library()


@register.filter
def money(amount, currency):
    return show_money(amount, currency)


@register.filter
def quantity(value):
    return show_quantity(value)
