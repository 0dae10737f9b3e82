"""Which panel a result belongs to (lipids, blood count, kidney…), so that "all results" reads
like a lab report: from the test's LOINC code (data/panels.json), else the group the source
document put it in, else "other results"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from apps.clinical.models import fold

PANELS_FILE = Path(__file__).parent / "data" / "panels.json"
LOINC_SYSTEMS = frozenset({"http://loinc.org", "urn:oid:2.16.840.1.113883.6.1", "2.16.840.1.113883.6.1"})
OTHER = "other"
SOURCE_GROUP = "group:"  # a panel named by the source document (group_label), not by our table

# The panels in the order a reader looks for them; labels here (translated), never in the JSON.
PANEL_LABELS = {
    "lipids": _("Cholesterol and lipids"),
    "blood_count": _("Blood count"),
    "kidney": _("Kidney"),
    "liver": _("Liver"),
    "thyroid": _("Thyroid"),
    "diabetes": _("Blood sugar and diabetes"),
    "electrolytes": _("Salts and minerals"),
    "iron": _("Iron"),
    "vitamins": _("Vitamins"),
    "inflammation": _("Inflammation"),
    "coagulation": _("Blood clotting"),
    "urine": _("Urine"),
    "vital_signs": _("Vital signs and measurements"),
    OTHER: _("Other results"),
}


@dataclass(frozen=True)
class PanelTable:
    version: str
    panel_of: dict[str, str]  # LOINC code → panel key
    position: dict[str, int]  # LOINC code → its place in its panel (the order a lab report lists them)


@cache
def panel_table() -> PanelTable:
    data = json.loads(PANELS_FILE.read_text(encoding="utf-8"))
    panel_of: dict[str, str] = {}
    position: dict[str, int] = {}
    for panel, codes in data["panels"].items():
        if panel not in PANEL_LABELS:
            raise ValueError(f"{PANELS_FILE.name}: panel {panel!r} has no label in apps/clinical/panels.py")
        for index, (code, _name) in enumerate(codes):
            if code in panel_of:  # one panel per code, or the grouping would depend on file order
                raise ValueError(f"{PANELS_FILE.name}: {code} is in {panel_of[code]!r} and {panel!r}")
            panel_of[code] = panel
            position[code] = index
    return PanelTable(version=data["version"], panel_of=panel_of, position=position)


def panel_key(code_system: str, code: str, group_label: str = "") -> str:
    """The panel of a result: its LOINC code's, else its source's group (``group:<folded label>``),
    else OTHER."""
    if code and code_system in LOINC_SYSTEMS:
        panel = panel_table().panel_of.get(code)
        if panel:
            return panel
    label = fold(group_label)
    return f"{SOURCE_GROUP}{label}" if label else OTHER


def panel_position(code_system: str, code: str) -> int | None:
    """Where a test stands in its panel (None: not in the table, listed after those that are)."""
    if code_system not in LOINC_SYSTEMS:
        return None
    return panel_table().position.get(code)


def panel_order(key: str) -> tuple[int, str]:
    """Our panels in PANEL_LABELS order, then the sources' own groups by name, "other" last."""
    keys = list(PANEL_LABELS)
    if key == OTHER:
        return (len(keys) + 1, "")
    if key in PANEL_LABELS:
        return (keys.index(key), "")
    return (len(keys), key)
