"""Forms of the consents pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.consents.directives.selectors import directives_documents
from apps.consents.models import OrganDonation, phone_validator

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Document, Record


class DocumentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Document) -> str:
        day = obj.care_date or obj.created_at.date()
        return f"{obj.title} ({day:%d/%m/%Y})"


class DirectivesForm(forms.Form):
    trusted_person_name = forms.CharField(
        label=_("Name of your trusted person"),
        max_length=200,
        required=False,
        help_text=_(
            "Your trusted person can come with you to appointments. If one day you cannot speak for yourself, "
            "the doctors will ask them what you would want. Tell them you chose them."
        ),
    )
    trusted_person_relationship = forms.CharField(
        label=_("Who they are to you"),
        max_length=100,
        required=False,
        help_text=_("For example: my sister, my friend, my partner."),
    )
    trusted_person_phone = forms.CharField(
        label=_("Their phone number"),
        max_length=30,
        required=False,
        validators=[phone_validator],
        help_text=_("So that a hospital can call them quickly."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    trusted_person_email = forms.EmailField(
        label=_("Their e-mail address"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    advance_directives_text = forms.CharField(
        label=_("Your advance directives"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What care you want, or do not want, at the end of your life if you can no longer say it. "
            "Doctors must follow them. You can change them at any time."
        ),
    )
    advance_directives_document = DocumentChoiceField(
        label=_("Or a document of your record that contains them"),
        queryset=None,  # the documents the person may see: set by the form (directives_documents)
        to_field_name="uuid",  # integer keys stay inside
        required=False,
        empty_label=_("No document"),
        help_text=_(
            "If you wrote and signed them on paper, add a photo or a scan to your record as a report or "
            "another document, then choose it here."
        ),
    )
    organ_donation = forms.ChoiceField(
        label=_("Organ donation"),
        choices=OrganDonation.choices,
        initial=OrganDonation.NOT_STATED,
        help_text=_(
            "In France, everyone is a donor after death unless they said no. Writing your refusal here does not "
            "register it: to be sure your organs are not taken, register on the national refusal register "
            "(registrenationaldesrefus.fr) and tell your family."
        ),
    )

    def __init__(self, *args, record: Record, actor: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only documents this person may see in a list are offered (their titles are the choices).
        documents = self.fields["advance_directives_document"]
        assert isinstance(documents, DocumentChoiceField)  # declared above; the form's fields are copies of it
        documents.queryset = directives_documents(actor=actor, record=record)
