from __future__ import annotations

from django import template

register = template.Library()

TIER_LABELS = {
    "satisfactory": "Satisfactory",
    "at_risk": "At risk",
    "moderate_chronic": "Moderate chronic",
    "severe_chronic": "Severe chronic",
}


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.9545 → "95.5%"; one decimal because a tenth of a point can cross a tier line."""
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}%"


@register.filter
def tier_label(tier: str) -> str:
    return TIER_LABELS.get(tier, tier)
