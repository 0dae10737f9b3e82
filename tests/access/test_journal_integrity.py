"""The journal against an intruder with database rights: one chain per record, MACs with a key
the database does not hold, signed checkpoints outside it, and the patient's offline check."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

import apps.access.journal_offline as offline
from apps.access.checkpoints import checkpoint_storage, write_checkpoint
from apps.access.history.export import journal_proof
from apps.access.history.views import verification_sentence
from apps.access.journal import journal_append
from apps.access.models import DEPLOYMENT_CHAIN, AccessEvent, JournalChainHead, JournalVerification
from apps.access.policy import Action
from apps.access.verification import verify_journal
from tests.startup import run_django

K1, K2 = os.urandom(32), os.urandom(32)


def _event(record_uuid, **fields) -> AccessEvent:
    values = {
        "record_uuid": record_uuid,
        "actor_role": "patient",
        "action": Action.RECORD_VIEW,
        "basis": "owner",
        "outcome": "allowed",
        "reason_code": "owner",
    }
    return AccessEvent(**{**values, **fields})


def _raw(sql: str, params: list | None = None) -> None:
    """Change the table behind the app's back, as an intruder with database rights would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_accessevent DISABLE TRIGGER access_event_append_only")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_accessevent ENABLE TRIGGER access_event_append_only")


def _rehash_from(chain: str, first_seq: int) -> None:
    """Recompute the plain SHA-256 links from ``first_seq`` on (the attacker has no journal key)."""
    events = list(AccessEvent.objects.filter(chain=chain).order_by("chain_seq"))
    prev = offline.GENESIS_HASH
    for event in events:
        if event.chain_seq >= first_seq:
            event.prev_hash = prev
            new_hash = event.compute_hash()
            _raw("UPDATE access_accessevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, new_hash, event.pk])
            event.hash = new_hash
        prev = event.hash
    last = events[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE access_journalchainhead SET seq = %s, last_hash = %s WHERE chain = %s",
            [last.chain_seq, last.hash, chain],
        )


@pytest.fixture
def chain(alice_record):
    """Three entries on Alice's record, then a signed checkpoint."""
    journal_append([_event(alice_record.uuid, actor_label=f"entry {n}") for n in range(3)])
    write_checkpoint()
    return str(alice_record.uuid)


def _problems(full: bool = True) -> list[str]:
    return verify_journal(full=full).problems


# --- One chain per record --------------------------------------------------------------------


def test_each_record_has_its_own_chain_numbered_from_one(alice_record, bob):
    journal_append([_event(alice_record.uuid), _event(bob.own_record.uuid), _event(alice_record.uuid)])
    alice_chain = list(AccessEvent.objects.filter(chain=str(alice_record.uuid)).order_by("chain_seq"))
    bob_chain = list(AccessEvent.objects.filter(chain=str(bob.own_record.uuid)))
    assert [e.chain_seq for e in alice_chain] == [1, 2]
    assert alice_chain[1].prev_hash == alice_chain[0].hash
    assert (bob_chain[0].chain_seq, bob_chain[0].prev_hash) == (1, offline.GENESIS_HASH)


def test_entries_about_no_record_go_to_the_deployment_chain(db):
    event = journal_append([_event(None)])[0]
    assert (event.chain, event.chain_seq) == (DEPLOYMENT_CHAIN, 1)


def test_display_order_runs_across_chains(alice_record, bob):
    events = journal_append([_event(alice_record.uuid), _event(bob.own_record.uuid)])
    assert events[1].seq == events[0].seq + 1


def test_each_chain_head_holds_its_last_entry(alice_record, bob):
    events = journal_append([_event(alice_record.uuid), _event(bob.own_record.uuid), _event(alice_record.uuid)])
    head = JournalChainHead.objects.get(chain=str(alice_record.uuid))
    assert (head.seq, head.last_hash) == (2, events[2].hash)


# --- Verification, named against the checkpoint ---------------------------------------------------


def test_an_untouched_journal_verifies_against_its_checkpoint(chain, capsys):
    call_command("verify_journal", "--full")
    assert "intact: 3 entries verified against checkpoint-" in capsys.readouterr().out


def test_an_edited_entry_is_named(chain):
    _raw("UPDATE access_accessevent SET actor_label = 'someone else' WHERE chain = %s AND chain_seq = 2", [chain])
    assert _problems() == [f"record {chain}: entry #2 altered (its content does not match its hash)"]


def test_an_edit_rehashed_without_the_key_fails_its_mac(chain):
    _raw("UPDATE access_accessevent SET actor_label = 'someone else' WHERE chain = %s AND chain_seq = 2", [chain])
    _rehash_from(chain, 2)
    problems = _problems()
    assert f"record {chain}: entry #2 altered (its MAC does not match: rewritten without the journal key)" in problems


def test_a_deleted_entry_is_named_missing(chain):
    _raw("DELETE FROM access_accessevent WHERE chain = %s AND chain_seq = 2", [chain])
    assert f"record {chain}: entry #2 is missing (found #3 next)" in _problems()


def test_a_truncated_chain_is_named_against_the_checkpoint(chain):
    _raw("DELETE FROM access_accessevent WHERE chain = %s AND chain_seq = 3", [chain])
    _rehash_from(chain, 3)  # the head row follows, as a careful intruder would leave it
    problems = _problems()
    assert len(problems) == 1
    assert problems[0].startswith(f"record {chain}: truncated after #2 (checkpoint of ")
    assert problems[0].endswith(" says #3)")


def test_a_chain_rewritten_and_rehashed_is_named_against_the_checkpoint(chain):
    _raw("UPDATE access_accessevent SET actor_label = 'rewritten' WHERE chain = %s", [chain])
    _rehash_from(chain, 1)
    problems = _problems()
    assert f"record {chain}: chain rewritten: head #3 differs from checkpoint of " in " ".join(problems)
    assert f"record {chain}: entry #1 altered (its MAC does not match" in problems[0]


def test_the_whole_journal_deleted_is_caught_by_the_checkpoint(chain):
    _raw("DELETE FROM access_accessevent")
    assert _problems()[0].startswith(f"record {chain}: truncated after #0 (checkpoint of ")


def test_a_checkpoint_file_altered_is_refused(chain):
    storage = checkpoint_storage()
    name = storage.listdir("")[1][0]
    data = json.loads(storage.open(name).read())
    data["chains"][0][1] = 2
    storage.delete(name)
    storage.save(name, ContentFile(json.dumps(data).encode()))
    assert _problems() == [f"checkpoint {name}: its chains do not match its signed root"]


def test_a_checkpoint_lost_from_its_storage_is_reported(chain):
    storage = checkpoint_storage()
    storage.delete(storage.listdir("")[1][0])
    assert "missing from the checkpoint storage" in _problems()[0]


def test_incremental_check_reads_only_entries_since_the_last_verified_checkpoint(alice_record):
    long_ago = timezone.now() - timedelta(days=2)
    journal_append([_event(alice_record.uuid, occurred_at=long_ago) for _n in range(3)])
    write_checkpoint()
    assert verify_journal(full=False).verified == 3  # no check before: a full walk
    journal_append([_event(alice_record.uuid)])
    report = verify_journal(full=False)
    assert (report.intact, report.verified) == (True, 1)


def test_incremental_check_names_an_entry_missing_after_the_checkpoint(alice_record):
    long_ago = timezone.now() - timedelta(days=2)
    journal_append([_event(alice_record.uuid, occurred_at=long_ago) for _n in range(3)])
    write_checkpoint()
    verify_journal(full=False)
    journal_append([_event(alice_record.uuid), _event(alice_record.uuid)])
    _raw("DELETE FROM access_accessevent WHERE chain = %s AND chain_seq = 4", [str(alice_record.uuid)])
    assert verify_journal(full=False).problems == [f"record {alice_record.uuid}: entry #4 is missing (found #5 next)"]


def test_the_check_is_stored_for_the_history_pdf(chain):
    verify_journal()
    check = JournalVerification.objects.get()
    assert (check.intact, check.verified, check.checkpoint_name.startswith("checkpoint-")) == (True, 3, True)
    assert "intact (3 entries checked)" in verification_sentence(check)


def test_the_command_exits_non_zero_naming_each_problem(chain):
    _raw("DELETE FROM access_accessevent WHERE chain = %s AND chain_seq = 3", [chain])
    with pytest.raises(CommandError, match=rf"record {chain}: truncated after #2"):
        call_command("verify_journal")


def test_checkpoint_command_signs_every_chain(alice_record, bob, capsys):
    journal_append([_event(alice_record.uuid), _event(bob.own_record.uuid)])
    call_command("journal_checkpoint")
    assert "2 chains" in capsys.readouterr().out


# --- Key rotation --------------------------------------------------------------------------------


def test_rotated_keys_verify_old_entries_with_their_own_key(alice_record, settings):
    settings.JOURNAL_KEYS = {"k1": K1}
    journal_append([_event(alice_record.uuid)])
    settings.JOURNAL_KEYS = {"k2": K2, "k1": K1}
    journal_append([_event(alice_record.uuid)])
    assert list(AccessEvent.objects.order_by("chain_seq").values_list("key_id", flat=True)) == ["k1", "k2"]
    assert _problems() == []


def test_an_entry_whose_key_was_dropped_no_longer_verifies(alice_record, settings):
    settings.JOURNAL_KEYS = {"k1": K1}
    journal_append([_event(alice_record.uuid)])
    settings.JOURNAL_KEYS = {"k2": K2}
    assert _problems() == [
        f"record {alice_record.uuid}: entry #1 altered (its MAC does not match: rewritten without the journal key)"
    ]


# --- The patient's offline check ------------------------------------------------------------------


def test_a_downloaded_journal_verifies_offline(chain, alice_record):
    assert offline.check_proof(journal_proof(alice_record.uuid)) == []


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda p: p["entries"][1].update(actor_label="x"), "entry #2: its content does not match its hash"),
        (lambda p: p["entries"].pop(), "the checkpoint's head (entry #3) is not among the entries"),
        (lambda p: p["checkpoint"].update(root="0" * 64), "the Merkle path does not lead to the checkpoint's root"),
        (lambda p: p["checkpoint"].update(created_at="2020-01-01"), "signature does not verify"),
    ],
)
def test_a_tampered_journal_file_fails_offline(chain, alice_record, tamper, problem):
    proof = journal_proof(alice_record.uuid)
    tamper(proof)
    assert problem in " ".join(offline.check_proof(proof))


def test_the_offline_command_runs_without_django(chain, alice_record, tmp_path):
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(journal_proof(alice_record.uuid)))
    script = Path(offline.__file__)
    # Any import of Django (or of the project) fails: the check needs neither.
    code = (
        "import runpy, sys; sys.modules['django'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(script), str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Verified: 3 entries")


def test_merkle_paths_lead_to_the_root_for_every_leaf_count():
    for size in range(1, 12):
        leaves = [offline.merkle_leaf(f"c{n}", n, "ab" * 32) for n in range(size)]
        root = offline.merkle_root(leaves)
        assert all(offline.root_from_path(leaves[i], offline.merkle_path(leaves, i)) == root for i in range(size))


def test_the_patient_downloads_their_journal_from_the_history_page(as_user, alice, alice_record, chain):
    response = as_user(alice).get(reverse("access_journal_proof", args=[alice_record.uuid]))
    assert response.status_code == 200
    proof = json.loads(response.content)
    assert proof["chain"] == chain
    assert proof["checkpoint"]["head"]["seq"] == 3


def test_the_journal_download_is_refused_to_others_and_journaled(as_user, alice_record, charlie, chain):
    response = as_user(charlie).get(reverse("access_journal_proof", args=[alice_record.uuid]))
    assert response.status_code == 404
    refusal = AccessEvent.objects.filter(actor_uuid=charlie.uuid).latest("seq")
    assert (refusal.action, refusal.outcome) == (Action.JOURNAL_READ, "denied")


def test_the_api_gives_the_journal_and_its_proof(as_user, alice, alice_record, chain):
    response = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/access-history/journal/")
    assert response.status_code == 200
    assert offline.check_proof(response.json()) == []


# --- Appends for different records do not wait on each other (PostgreSQL) --------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_writer_of_another_record_does_not_wait_for_a_held_head(alice_record, bob):
    outcome: dict[str, object] = {}

    def second_writer(record_uuid, key):
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SET lock_timeout = '500ms'")
            journal_append([_event(record_uuid)])
            outcome[key] = "written"
        except OperationalError as error:
            outcome[key] = type(error.__cause__).__name__
        finally:
            connections.close_all()

    with transaction.atomic():
        journal_append([_event(alice_record.uuid)])  # holds the lock on Alice's head until commit
        for record_uuid, key in ((bob.own_record.uuid, "other"), (alice_record.uuid, "same")):
            thread = threading.Thread(target=second_writer, args=(record_uuid, key))
            thread.start()
            thread.join()
    assert outcome == {"other": "written", "same": "LockNotAvailable"}


# --- Existing deployments: the one-time re-chaining migration ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_rechains_existing_entries_per_record():
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("access", "0005_accessevent_history_indexes")], [("access", "0006_journal_chains_per_record")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("access", "AccessEvent")
    record_a, record_b = uuid.uuid4(), uuid.uuid4()
    for seq, record_uuid in enumerate((record_a, record_b, record_a, None), start=1):
        old.objects.create(
            seq=seq, record_uuid=record_uuid, actor_role="patient", action="record.view", basis="owner",
            outcome="allowed", reason_code="owner", prev_hash="x" * 64, hash="y" * 64,
        )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    chains = list(AccessEvent.objects.order_by("seq").values_list("chain", "chain_seq"))
    assert chains == [(str(record_a), 1), (str(record_b), 1), (str(record_a), 2), (DEPLOYMENT_CHAIN, 1)]
    assert verify_journal(full=True).problems == []


# --- Configuration ---------------------------------------------------------------------------------


def _b64_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


PRODUCTION = {
    "HEALTHSPACE_ENV": "production",
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://u:p@127.0.0.1:9/hs",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "ALLOWED_HOSTS": "health.example.org",
    "DOCUMENT_MASTER_KEYS": f"k1:{_b64_key()}",
}


def test_production_refuses_to_start_without_the_journal_keys(tmp_path):
    result = run_django(tmp_path, **PRODUCTION, JOURNAL_SIGNING_KEY=_b64_key())
    assert result.returncode != 0
    assert "JOURNAL_KEYS" in result.stderr


def test_production_starts_with_the_journal_keys_from_the_environment(tmp_path):
    show = "from django.conf import settings; print(list(settings.JOURNAL_KEYS))"
    result = run_django(tmp_path, show, **PRODUCTION, JOURNAL_KEYS=f"j2:{_b64_key()},j1:{_b64_key()}",
                        JOURNAL_SIGNING_KEY=_b64_key())  # fmt: skip
    assert result.stdout.strip() == "['j2', 'j1']", result.stderr
    assert not (tmp_path / "var" / "secrets").exists()


def test_the_signing_public_key_is_published(client, chain, alice_record):
    published = client.get(reverse("journal_public_key")).content.decode().strip()
    assert published == journal_proof(alice_record.uuid)["checkpoint"]["public_key"]
