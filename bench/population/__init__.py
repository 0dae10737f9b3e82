"""The benchmark population (issue 11): seeded, reproducible, written with bulk inserts.

``build`` plans every person in Python from one seed, then streams users, records,
documents, facts and journal rows into the database (COPY on PostgreSQL). The journal's
hash chain continues from the current tip, so ``journal_verify()`` stays intact and later
appends continue it. ``remove`` deletes a previous bench population (see its docstring).
"""

from __future__ import annotations

import math
import random
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.access.journal import reset_display_sequence
from apps.access.journal_keys import active_key_id
from apps.access.models import AccessEvent, CareRelationship, JournalChainHead
from apps.accounts.models import Profession, Role, SupportStructure, User
from apps.clinical.models import ClinicalFact
from apps.delegations.models import Delegation, Scope
from apps.records import crypto
from apps.records.models import Document, Record
from bench.population import content
from bench.population.records import Actor, PatientPlan, PatientWriter, rand_uuid
from bench.population.writer import JOURNAL_COLUMNS, BulkSink, JournalChain, indexes_deferred, next_id, timed

BENCH_DOMAIN = "bench.healthspace.test"
PASSWORD = "bench-password-2026"
# Every bench professional and agent shares this TOTP key (20 bytes, hex as django-otp stores it).
TOTP_KEY_HEX = "62656e63682d746f74702d6b65792d3230323621"
STRUCTURE_PREFIX = "Bench France Services "
# A fixed "today" keeps dates reproducible; the population is ten years of care up to it.
BENCH_TODAY = date(2026, 11, 30)
NAMED_WORDS = {31: "Trente-et-un", 300: "Trois-cents", 2000: "Deux-mille", 10000: "Dix-mille"}


@dataclass(frozen=True)
class BenchOptions:
    patients: int = 10_000
    seed: int = 2026
    journal_per_document: int = 20
    named: tuple[int, ...] = (31, 300, 2000, 10_000)
    professionals: int = 500
    agents: int = 50
    caregiver_share: float = 0.05
    blobs_per_named: int = 50
    max_documents: int = 1000

    @classmethod
    def small(cls, **overrides: Any) -> BenchOptions:
        values: dict[str, Any] = {
            "patients": 30,
            "named": (31, 300),
            "professionals": 20,
            "agents": 5,
            "caregiver_share": 0.1,
            "journal_per_document": 5,
            "blobs_per_named": 5,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def bench_email(local: str) -> str:
    return f"{local}@{BENCH_DOMAIN}"


def bench_users():
    return User.objects.filter(email__endswith="@" + BENCH_DOMAIN)


def population_exists() -> bool:
    return bench_users().exists()


def documents_for(rng: random.Random, maximum: int) -> int:
    """Log-normal, median 8 and 90th percentile about 40 (mu = ln 8, sigma = ln 5 / 1.2816)."""
    return max(1, min(maximum, round(rng.lognormvariate(math.log(8), 1.256))))


def _plan_patients(rng: random.Random, options: BenchOptions) -> list[PatientPlan]:
    plans = []
    for index in range(1, options.patients + 1):
        plans.append(
            PatientPlan(
                index=index,
                email=bench_email(f"patient-{index:05d}"),
                given=rng.choice(content.GIVEN),
                family=rng.choice(content.FAMILY),
                birth=date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 70)),
                sex=rng.choice("FM"),
                documents=documents_for(rng, options.max_documents),
            )
        )
    for count in options.named:
        plans.append(
            PatientPlan(
                index=0,
                email=bench_email(f"bench-{count}"),
                given=NAMED_WORDS.get(count, str(count)),
                family="Banc",
                birth=date(1958, 4, 17),
                sex="F",
                documents=count,
                named=True,
            )
        )
    return plans


def build(options: BenchOptions, log: Callable[[str], None]) -> dict[str, Any]:
    """Create the whole population in one transaction; returns the manifest."""
    rng = random.Random(options.seed)
    stored_blobs: list[str] = []
    try:
        with transaction.atomic():
            manifest = _build(rng, options, log, stored_blobs)
    except BaseException:
        for name in stored_blobs:  # the rows are gone with the rollback: so are their files
            default_storage.delete(name)
        raise
    return manifest


def _build(rng: random.Random, options: BenchOptions, log, stored_blobs: list[str]) -> dict[str, Any]:
    with timed(log, "plan"):
        password = make_password(PASSWORD)
        patients = _plan_patients(rng, options)
        pool = content.TextPool(random.Random(options.seed + 1))
        user_id, record_id = next_id(User), next_id(Record)
        structure_id, document_id = next_id(SupportStructure), next_id(Document)
        last_seq = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        now = datetime.combine(BENCH_TODAY, datetime.min.time(), tzinfo=UTC)
    log(f"  {len(patients)} patients, {sum(p.documents for p in patients)} documents planned")

    deferred = indexes_deferred([AccessEvent, Document, ClinicalFact], log)
    deferred.__enter__()
    sink = BulkSink()
    users = sink.table(
        User,
        (
            "id",
            "uuid",
            "email",
            "display_name",
            "role",
            "rpps",
            "profession",
            "support_structure_id",
            "language",
            "password",
            "date_joined",
            "is_active",
        ),
    )
    with timed(log, "accounts"):
        for plan in patients:
            plan.user_id, plan.user_uuid = user_id, rand_uuid(rng)
            plan.record_id, plan.record_uuid = record_id, rand_uuid(rng)
            user_id += 1
            record_id += 1
            users.add(
                (
                    plan.user_id,
                    plan.user_uuid,
                    plan.email,
                    plan.label,
                    Role.PATIENT.value,
                    "",
                    "",
                    None,
                    "fr",
                    password,
                    now,
                    True,
                )
            )
        professionals: list[tuple[int, Actor, str]] = []
        for n in range(1, options.professionals + 1):
            profession = Profession.GENERAL_PRACTITIONER if n % 3 else Profession.SPECIALIST
            label = f"Dr {rng.choice(content.GIVEN)} {rng.choice(content.FAMILY)}"
            actor = Actor(
                rand_uuid(rng), label, Role.PROFESSIONAL.value, "care_relationship", "care_relationship", "care"
            )
            email = bench_email(f"pro-{n:04d}")
            users.add(
                (
                    user_id,
                    actor.uuid,
                    email,
                    label,
                    Role.PROFESSIONAL.value,
                    f"{90_000_000_000 + n}",
                    profession.value,
                    None,
                    "fr",
                    password,
                    now,
                    True,
                )
            )
            professionals.append((user_id, actor, email))
            user_id += 1
        structures = sink.table(SupportStructure, ("id", "uuid", "name", "city"))
        agents: list[tuple[int, str]] = []
        for n in range(options.agents):
            if n % 5 == 0:
                structures.add((structure_id + n // 5, rand_uuid(rng), f"{STRUCTURE_PREFIX}{n // 5 + 1}", "Lyon"))
            email = bench_email(f"agent-{n + 1:03d}")
            users.add(
                (
                    user_id,
                    rand_uuid(rng),
                    email,
                    f"Agent {n + 1}",
                    Role.SUPPORT_AGENT.value,
                    "",
                    "",
                    structure_id + n // 5,
                    "fr",
                    password,
                    now,
                    True,
                )
            )
            agents.append((user_id, email))
            user_id += 1
        emails = sink.table(EmailAddress, ("user_id", "email", "verified", "primary"))
        for plan in patients:
            emails.add((plan.user_id, plan.email, True, True))
        for pk, _actor, email in professionals:
            emails.add((pk, email, True, True))
        devices = sink.table(TOTPDevice, ("user_id", "name", "confirmed", "key", "tolerance"))
        for pk, _email in [(pk, email) for pk, _a, email in professionals] + agents:
            devices.add((pk, "bench authenticator", True, TOTP_KEY_HEX, 1))
        for pk, email in agents:
            emails.add((pk, email, True, True))
        records = sink.table(
            Record, ("id", "uuid", "family_name", "given_names", "birth_date", "sex", "owner_id", "created_at")
        )
        for plan in patients:
            records.add(
                (plan.record_id, plan.record_uuid, plan.family, plan.given, plan.birth, plan.sex, plan.user_id, now)
            )

    with timed(log, "care relationships and caregivers"):
        care = sink.table(CareRelationship, ("uuid", "professional_id", "record_id", "attested_at"))
        named_pros: dict[str, int] = {}
        for plan in patients:
            if not professionals:
                break
            chosen = rng.sample(professionals, min(3 if plan.named else rng.randint(1, 2), len(professionals)))
            if plan.named:
                named_pros[plan.email] = chosen[0][0]
            for pk, actor, _email in chosen:
                care.add((rand_uuid(rng), pk, plan.record_id, now - timedelta(days=rng.randrange(3000))))
                plan.professionals.append(actor)
        delegations = sink.table(
            Delegation,
            (
                "uuid",
                "record_id",
                "invited_email",
                "delegate_id",
                "scopes",
                "created_by_id",
                "created_at",
                "invitation_hash",
                "invitation_expires_at",
                "accepted_at",
            ),
        )
        ordinary = [p for p in patients if not p.named]
        with_caregiver = rng.sample(ordinary, round(len(ordinary) * options.caregiver_share)) if ordinary else []
        caregivers: list[tuple[PatientPlan, PatientPlan]] = []
        for plan in with_caregiver:
            helper = rng.choice([p for p in rng.sample(ordinary, min(5, len(ordinary))) if p is not plan] or [plan])
            if helper is plan:
                continue
            plan.caregiver = Actor(
                helper.user_uuid,
                helper.label,
                Role.PATIENT.value,
                "delegation",
                "delegation",
                "caregiving",
                plan.user_uuid,
                plan.label,
            )
            scopes = [Scope.READ_DOCUMENTS.value, Scope.READ_PROFILE.value]
            delegations.add(
                (
                    rand_uuid(rng),
                    plan.record_id,
                    helper.email,
                    helper.user_id,
                    scopes,
                    plan.user_id,
                    now - timedelta(days=400),
                    f"{rng.getrandbits(256):064x}",
                    now - timedelta(days=393),
                    now - timedelta(days=399),
                )
            )
            caregivers.append((helper, plan))

    strangers = [
        Actor(a.uuid, a.label, a.role, "none", "professional_without_basis", "") for _pk, a, _e in professionals[:50]
    ]
    key_id = active_key_id()  # each new record gets its own chain, authenticated with the active key
    chain = JournalChain(seq=last_seq, key_id=key_id, key=settings.JOURNAL_KEYS[key_id])
    journal = sink.table(AccessEvent, JOURNAL_COLUMNS)
    writer = PatientWriter(
        sink=sink,
        chain=chain,
        journal_table=journal,
        pool=pool,
        today=BENCH_TODAY,
        journal_per_document=options.journal_per_document,
        stranger_pros=strangers,
        blobs_per_named=options.blobs_per_named,
    )
    writer.next_document_id = document_id
    with timed(log, "documents, facts and journal"):
        for number, plan in enumerate(patients, start=1):
            writer.write(rng, plan)
            if number % 1000 == 0 or plan.named:
                log(
                    f"  {number}/{len(patients)} patients, {writer.documents.count} documents, "
                    f"{writer.fact_count} facts, {journal.count} journal rows"
                )
        sink.close()
    for table, seconds in sorted(sink.copy_seconds.items()):
        log(f"  COPY {table}: {seconds:.1f} s")
    deferred.__exit__(None, None, None)
    with timed(log, "journal tip and blobs"):
        JournalChainHead.objects.bulk_create(
            [JournalChainHead(chain=key, seq=seq, last_hash=last) for key, (seq, last) in chain.heads.items()],
            batch_size=5000,
        )
        reset_display_sequence()
        for plan in patients:
            for doc_uuid, name, pdf in plan.blob_documents:
                stored = crypto.store_encrypted(
                    storage=default_storage, name=name, plaintext=pdf, associated_id=doc_uuid
                )
                stored_blobs.append(stored)
                if stored != name:  # the storage chose another name (a leftover file): keep the row right
                    Document.objects.filter(uuid=doc_uuid).update(blob_name=stored)
    if connection.vendor == "postgresql":
        with timed(log, "analyze"), connection.cursor() as cursor:
            for model in (User, Record, Document, AccessEvent, CareRelationship, Delegation):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            cursor.execute("ANALYZE clinical_clinicalfact")

    counts = {
        "patients": len(patients),
        "named_patients": len(options.named),
        "documents": writer.documents.count,
        "facts": writer.fact_count,
        "journal_rows": journal.count,
        "professionals": len(professionals),
        "agents": len(agents),
        "caregivers": len(caregivers),
        "care_relationships": care.count,
        "blobs": len(stored_blobs),
    }
    return _manifest(rng, options, patients, named_pros, caregivers, pool, counts)


def _manifest(rng, options, patients, named_pros, caregivers, pool, counts) -> dict[str, Any]:
    named = [p for p in patients if p.named]
    ordinary = [p for p in patients if not p.named]
    return {
        "seed": options.seed,
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.__dict__.items()},
        "password": PASSWORD,
        "totp_key_hex": TOTP_KEY_HEX,
        "totp_key_base32": b32encode(bytes.fromhex(TOTP_KEY_HEX)).decode(),
        "counts": counts,
        "named": {
            str(p.documents): {
                "email": p.email,
                "user_id": p.user_id,
                "record_uuid": p.record_uuid,
                "documents": p.documents,
                "blob_document_uuids": [uuid for uuid, _n, _b in p.blob_documents[:5]],
                "professional_user_id": named_pros.get(p.email),
            }
            for p in named
        },
        "random_patients": [
            {"email": p.email, "user_id": p.user_id, "record_uuid": p.record_uuid, "documents": p.documents}
            for p in rng.sample(ordinary, min(20, len(ordinary)))
        ],
        "caregivers": [
            {"email": helper.email, "user_id": helper.user_id, "patient_record_uuid": plan.record_uuid}
            for helper, plan in caregivers[:3]
        ],
        "search_terms": pool.search_terms(rng, 200),
    }


def database_name() -> str:
    return str(connection.settings_dict.get("NAME") or "")


def remove(log: Callable[[str], None]) -> None:
    """Delete a previous bench population. The journal is append-only (a trigger refuses
    deletes on PostgreSQL): it is TRUNCATEd and the tip reset, so this is only for a
    database whose name says it is a bench one (checked by the command)."""
    from apps.clinical.models import ClinicalFact, RectificationRequest

    with transaction.atomic(), timed(log, "reset"):
        users = bench_users()
        records = Record.objects.filter(owner__in=users)
        documents = Document.objects.filter(record__in=records)
        blob_names = list(documents.exclude(blob_name="").values_list("blob_name", flat=True))
        table = connection.ops.quote_name(AccessEvent._meta.db_table)
        with connection.cursor() as cursor:
            # The table name is the model's, quoted: nothing from outside reaches this SQL.
            statement = "TRUNCATE " if connection.vendor == "postgresql" else "DELETE FROM "
            cursor.execute(statement + table)
        JournalChainHead.objects.all().delete()
        RectificationRequest.objects.filter(fact__record__in=records).delete()
        # _raw_delete: millions of rows, no cascade to collect (nothing bench-made points at them).
        ClinicalFact.objects.filter(record__in=records)._raw_delete(ClinicalFact.objects.db)
        documents._raw_delete(Document.objects.db)
        Delegation.objects.filter(record__in=records).delete()
        Delegation.objects.filter(delegate__in=users).delete()
        CareRelationship.objects.filter(professional__in=users).delete()
        records.delete()
        users.delete()
        SupportStructure.objects.filter(name__startswith=STRUCTURE_PREFIX).delete()
    for name in blob_names:
        default_storage.delete(name)
