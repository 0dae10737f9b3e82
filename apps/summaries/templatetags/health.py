from decimal import Decimal

from django import template

from apps.clinical.naming import format_number
from apps.summaries.builder import unit_display

register = template.Library()


@register.filter(name="unit")
def unit_filter(code: str) -> str:
    """A UCUM unit code as a person reads it (mm[Hg] → mmHg)."""
    return unit_display(code or "")


@register.filter(name="number")
def number_filter(value: Decimal | None) -> str:
    """A number in the reader's conventions, the same text on every page (170,2 in French)."""
    return format_number(value)
