"""A deterministic world for the crawler (issue 12, "Proof — Crawler"), and what the policy denies in it.

Every title, fact value and record name is an unusual marker ("ZQX-…"), so that finding it in a
response means exactly one thing. ``forbidden_for`` asks the policy itself (``decide``), never a
page, which strings a persona must not be shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from apps.access.door import document_resource
from apps.access.models import AccessCode, CareRelationship, EmergencyAccess
from apps.access.policy import Action, decide
from apps.accounts.models import Profession
from apps.assistance.models import Mandate, MandateScope
from apps.clinical.models import ClinicalFact, RectificationRequest
from apps.consents.directives.selectors import directives_resource
from apps.consents.privacy.services import designated_doctor_set, professional_block
from apps.delegations.models import Delegation, Scope
from apps.records.models import Document, Record, RecordInvitation
from apps.summaries.models import SummaryExport
from tests.assistance.helpers import mandate_for
from tests.factories import (
    DocumentFactory,
    GuardianshipFactory,
    OperatorFactory,
    ProfessionalFactory,
    RecordFactory,
    SupportAgentFactory,
    SupportStructureFactory,
    UserFactory,
    totp_device,
)

# A tiny PDF, stored encrypted as each document's content (its text holds no marker).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class World:
    personas: dict[str, Any] = field(default_factory=dict)  # name -> User (None: anonymous)
    records: dict[str, Record] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    facts: dict[str, ClinicalFact] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)  # invitation links' secrets

    def ids(self, kind: str) -> list[str]:
        """Every identifier of ``kind`` in the world, as it appears in a URL."""
        querysets = {
            "record": Record.objects.all(),
            "document": Document.objects.all(),
            "fact": ClinicalFact.objects.all(),
            "rectification": RectificationRequest.objects.all(),
            "mandate": Mandate.objects.all(),
            "delegation": Delegation.objects.all(),
            "access_code": AccessCode.objects.all(),
            "export": SummaryExport.objects.all(),
        }
        if kind == "token":
            return list(self.tokens)
        return [str(u) for u in querysets[kind].order_by("pk").values_list("uuid", flat=True)]


def _record(owner, family: str, given: str, **fields) -> Record:
    return RecordFactory(owner=owner, family_name=family, given_names=given, **fields)


def _document(record: Record, title: str, category: str, **fields) -> Document:
    document = DocumentFactory(record=record, title=title, category=category, **fields)
    from apps.records import crypto

    document.blob_name = crypto.store_encrypted(
        storage=default_storage,
        name=f"documents/{document.uuid}.pdf",
        plaintext=PDF,
        associated_id=str(document.uuid),
    )
    document.save(update_fields=["blob_name"])
    return document


def _fact(record: Record, marker: str, document: Document | None, **fields) -> ClinicalFact:
    return ClinicalFact.objects.create(
        record=record,
        source_document=document,
        kind=fields.pop("kind", "observation"),
        display=f"{marker}-label",
        value_text=f"{marker}-value",
        effective_date=date(2025, 3, 1),
        **fields,
    )


def _professional(name: str, profession: str = Profession.GENERAL_PRACTITIONER):
    user = ProfessionalFactory(display_name=name, profession=profession)
    totp_device(user)
    return user


def _caregiver(owner, record: Record, name: str, scopes: list[str]):
    from apps.delegations import services

    user = UserFactory(display_name=name)
    _record(user, f"Zqx{name}fam", f"Zqx{name}given")
    delegation, _token = services.delegation_invite(actor=owner, record=record, email=user.email, scopes=scopes)
    Delegation.objects.filter(pk=delegation.pk).update(delegate=user, accepted_at=timezone.now())
    return user


def build_world() -> World:
    """Alice with documents of several kinds (one hidden from professionals), her child with a document
    confidential from the parents, facts, directives linked to a document, privacy settings, caregivers,
    support agents, professionals on every basis, an operator, and Bob with his own record."""
    from apps.access.professional import services as access
    from apps.clinical.profile import rectification_request
    from apps.consents.directives.services import directives_update
    from apps.delegations import services as delegations
    from apps.records import dependents
    from apps.summaries.exports import summary_export_request

    w = World()
    alice = UserFactory(email="alice@example.test", display_name="Alice Owner")
    alice_record = _record(alice, "Zqxalicefam", "Zqxalicegiven", birth_date=date(1979, 3, 12))
    child = GuardianshipFactory(
        guardian=alice,
        record=RecordFactory(family_name="Zqxleofam", given_names="Zqxleogiven", birth_date=date(2012, 9, 4)),
    ).record
    bob = UserFactory(email="bob@example.test", display_name="Bob Other")
    bob_record = _record(bob, "Zqxbobfam", "Zqxbobgiven")
    w.records.update(alice=alice_record, child=child, bob=bob_record)

    docs = {
        "lab": _document(alice_record, "ZQX-lab-title-01", "lab_result"),
        "rx": _document(alice_record, "ZQX-rx-title-02", "prescription"),
        "masked": _document(alice_record, "ZQX-masked-title-03", "report", masked=True),
        "imaging": _document(alice_record, "ZQX-imaging-title-04", "imaging"),
        "report": _document(alice_record, "ZQX-report-title-05", "report"),
        "child": _document(child, "ZQX-child-title-06", "report"),
        "child_conf": _document(child, "ZQX-childconf-title-07", "report", confidential_from_parents=True),
        "bob": _document(bob_record, "ZQX-bob-title-08", "lab_result"),
    }
    w.documents.update(docs)
    w.facts.update(
        lab=_fact(alice_record, "ZQX-lab-fact-01", docs["lab"], unit="mmol/L", value_decimal=Decimal("5.25")),
        rx=_fact(alice_record, "ZQX-rx-fact-02", docs["rx"], kind="medication"),
        masked=_fact(alice_record, "ZQX-masked-fact-03", docs["masked"]),
        report=_fact(alice_record, "ZQX-report-fact-05", docs["report"], kind="condition"),
        declared=_fact(alice_record, "ZQX-declared-fact-09", None, kind="allergy", origin="declared"),
        child=_fact(child, "ZQX-child-fact-06", docs["child"]),
        child_conf=_fact(child, "ZQX-childconf-fact-07", docs["child_conf"]),
        bob=_fact(bob_record, "ZQX-bob-fact-08", docs["bob"]),
    )
    rectification_request(actor=alice, fact_uuid=w.facts["lab"].uuid, reason="ZQX-rectif-reason-12 wrong unit")

    # Directives linked to the document hidden from professionals; the child's to the confidential one.
    directives_update(
        actor=alice,
        record=alice_record,
        trusted_person_name="ZQX-trusted-alice-10",
        advance_directives_text="ZQX-directives-alice-11",
        advance_directives_document=docs["masked"],
    )

    # Professionals, one per basis.
    gp = _professional("Dr Gp Care")
    physio = _professional("Phy Sio", Profession.PHYSIOTHERAPIST)
    blocked = _professional("Dr Blocked")
    coded = _professional("Dr Coded")
    emergency = _professional("Dr Emergency")
    designated = _professional("Dr Designated")
    nobody = _professional("Dr Nobody")
    for professional in (gp, physio, blocked):
        access.care_attest(professional=professional, record=alice_record)
    access.care_attest(professional=gp, record=child)
    professional_block(actor=alice, record=alice_record, professional=blocked)
    designated_doctor_set(actor=alice, record=alice_record, professional=designated)
    _code, raw = access.access_code_create(actor=alice, record=alice_record, hours=4)
    access.access_code_redeem(professional=coded, code=raw)
    access.access_code_create(actor=alice, record=alice_record, hours=2)  # an unused one, for the pages
    access.emergency_declare(
        professional=emergency, record=alice_record, justification="Unconscious at the emergency department"
    )
    assert CareRelationship.objects.filter(professional=gp).count() == 2
    assert EmergencyAccess.objects.filter(professional=emergency).exists()

    # Caregivers: settings only, profile only (no documents), documents and profile.
    settings_cg = _caregiver(alice, alice_record, "Carol", [Scope.MANAGE_SETTINGS])
    profile_cg = _caregiver(alice, alice_record, "Pat", [Scope.READ_PROFILE])
    docs_cg = _caregiver(alice, alice_record, "Dave", [Scope.READ_DOCUMENTS, Scope.READ_PROFILE])
    # A pending invitation (its link's secret is a URL parameter) and a pending second-parent one.
    _pending, token = delegations.delegation_invite(
        actor=alice, record=alice_record, email="erin@example.test", scopes=[Scope.READ_HISTORY]
    )
    w.tokens.append(token)
    _invitation, token = dependents.second_parent_invite(actor=alice, record=child, email="paul@example.test")
    w.tokens.append(token)
    assert RecordInvitation.objects.count() == 1

    # Support agents of one structure: one with an account-help mandate, one with none.
    structure = SupportStructureFactory(name="France Services Zqx")
    agent = SupportAgentFactory(display_name="Sam Mandated", support_structure=structure)
    totp_device(agent)
    no_mandate = SupportAgentFactory(display_name="Sid Unmandated", support_structure=structure)
    totp_device(no_mandate)
    mandate_for(agent, alice_record, [MandateScope.ACCOUNT_HELP])

    operator = OperatorFactory(display_name="Olga Operator")
    totp_device(operator)

    # Reads the journal keeps (a title in each entry): the child's doctor opens the confidential
    # document, the documents caregiver the hidden one.
    from apps.records.documents import document_get_for

    document_get_for(actor=gp, document_uuid=docs["child_conf"].uuid)
    document_get_for(actor=docs_cg, document_uuid=docs["masked"].uuid)

    # Summary PDFs requested by those who may.
    for actor, record in ((alice, alice_record), (alice, child), (gp, alice_record), (bob, bob_record)):
        summary_export_request(actor=actor, record=record, language="en")

    w.personas.update(
        alice=alice,
        bob=bob,
        caregiver_settings=settings_cg,
        caregiver_profile=profile_cg,
        caregiver_documents=docs_cg,
        agent_mandated=agent,
        agent_unmandated=no_mandate,
        gp_care=gp,
        physio_care=physio,
        gp_blocked=blocked,
        gp_access_code=coded,
        gp_emergency=emergency,
        gp_designated=designated,
        professional_nothing=nobody,
        operator=operator,
        anonymous=None,
    )
    return w


RECORD_NOT_OPEN = "record not open to this persona (record.view denied)"


def forbidden_for(world: World, actor) -> dict[str, str]:
    """The strings the policy denies to ``actor``: marker -> why. Asked of ``decide``, not of any page."""
    forbidden: dict[str, str] = {}
    for record in world.records.values():
        record = Record.objects.get(pk=record.pk)
        opens = decide(actor=actor, record=record, action=Action.RECORD_VIEW).allowed
        if not opens:
            why = RECORD_NOT_OPEN
            for value in (record.family_name, record.given_names, str(record.uuid)):
                forbidden[value] = why
        for document in Document.objects.filter(record=record).order_by("pk"):
            decision = decide(
                actor=actor, record=record, action=Action.DOCUMENT_READ, resource=document_resource(document)
            )
            if decision.allowed:
                continue
            why = f"document.read denied ({decision.reason_code}) on {document.title}"
            forbidden[document.title] = why
            forbidden[str(document.uuid)] = why
            # Its facts are profile content: a caregiver allowed the profile but not the documents reads
            # them; the person's restrictions on the document (hidden, confidential, profession) hide them.
            content = decide(
                actor=actor, record=record, action=Action.PROFILE_READ, resource=document_resource(document)
            )
            if content.allowed:
                continue
            for fact in ClinicalFact.objects.filter(source_document=document):
                for value in (fact.display, fact.value_text, str(fact.uuid)):
                    forbidden[value] = f"fact of a document denied as profile content ({content.reason_code}): {why}"
        profile = decide(actor=actor, record=record, action=Action.PROFILE_READ)
        if not profile.allowed:
            for fact in ClinicalFact.objects.filter(record=record):
                for value in (fact.display, fact.value_text, str(fact.uuid)):
                    forbidden.setdefault(value, f"profile.read denied ({profile.reason_code})")
            for rectification in RectificationRequest.objects.filter(fact__record=record):
                forbidden.setdefault(rectification.reason.split()[0], "profile.read denied")
        directives = decide(
            actor=actor, record=record, action=Action.PROFILE_READ, resource=directives_resource(record)
        )
        if not directives.allowed:
            from apps.consents.models import PersonalDirectives

            for row in PersonalDirectives.objects.filter(record=record):
                for value in (row.trusted_person_name, row.advance_directives_text):
                    if value:
                        forbidden.setdefault(value, f"directives denied ({directives.reason_code})")
    return forbidden
