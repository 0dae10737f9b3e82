"""What each setting does, in plain words: what it does, who can then see what, an example, what it does not do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from apps.consents.models import SettingKey

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Explanation:
    # Lazy translations, rendered in the reader's language.
    does: StrOrPromise
    who: StrOrPromise
    example: StrOrPromise
    does_not: StrOrPromise


EXPLANATIONS = {
    SettingKey.PROFESSIONAL_ACCESS: Explanation(
        does=_("When on, a health professional who declares that they take care of you can read your record."),
        who=_("When off, only you, the people you chose, your access codes and emergencies can open it."),
        example=_("Your new dentist can read your last X-ray report before your appointment."),
        does_not=_("It does not let anyone change or delete your documents. Every access is in your history."),
    ),
    SettingKey.EMERGENCY_ACCESS: Explanation(
        does=_("When on, a professional can open your record in an emergency, after writing why."),
        who=_("You are told at once, and the access shows in red in your history."),
        example=_("You are brought to the emergency room unconscious: the doctor can see your allergies."),
        does_not=_("It does not last: emergency access ends after 12 hours."),
    ),
    SettingKey.RESEARCH_USE: Explanation(
        does=_("When on, your data may be used, without your name, for research and public health."),
        who=_("Only approved research bodies, under the European rules on health data (EHDS)."),
        example=_("A study counts how many people had the flu vaccine this winter."),
        does_not=_("It never lets a researcher read your record, and your data is never sold."),
    ),
    SettingKey.DESIGNATED_DOCTOR: Explanation(
        does=_("Your designated doctor (médecin traitant) sees all your documents, even those you hid."),
        who=_("Only that doctor; other professionals still do not see hidden documents."),
        example=_("Your family doctor sees the report you hid from other professionals."),
        does_not=_("It does not let the doctor change your settings or your documents."),
    ),
    SettingKey.BLOCKED_PROFESSIONAL: Explanation(
        does=_("A professional you block cannot open your record, whatever they try."),
        who=_("They are not told that you blocked them: for them, there is simply nothing to see."),
        example=_("You do not want a former doctor to see your new documents."),
        does_not=_("In an emergency they could still open it, unless you also turn emergency access off."),
    ),
    SettingKey.MASKED_DOCUMENT: Explanation(
        does=_("A hidden document stays in your record but professionals do not see it."),
        who=_("You, the people you chose and your designated doctor still see it."),
        example=_("You hide a psychiatrist's report from your physiotherapist."),
        does_not=_("It does not delete the document. You can show it again at any time."),
    ),
}
