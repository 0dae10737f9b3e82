from django import template

from apps.summaries.builder import unit_display

register = template.Library()


@register.filter(name="unit")
def unit_filter(code: str) -> str:
    """A UCUM unit code as a person reads it (mm[Hg] → mmHg)."""
    return unit_display(code or "")
