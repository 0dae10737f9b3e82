"""A malformed environment stops start-up with a message naming the variable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from healthspace.env import env_bool, env_choice, env_int, env_list, env_str, env_url
from tests.startup import run_django

PROJECT_DIR = Path(__file__).resolve().parents[2]
GOOD_SECRET = "x" * 50


def start(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return run_django(tmp_path, **variables)


def _refused(result: subprocess.CompletedProcess[str], *names: str) -> str:
    assert result.returncode != 0, result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    for name in names:
        assert name in last_line, result.stderr
    return last_line


# --- Start-up in a subprocess ------------------------------------------------------------


def test_default_environment_starts(tmp_path):
    result = start(tmp_path)

    assert result.returncode == 0, result.stderr


def test_debug_that_is_not_a_boolean_stops_startup_naming_debug(tmp_path):
    line = _refused(start(tmp_path, DEBUG="maybe"), "DEBUG")

    assert "'maybe'" in line


def test_session_cookie_age_that_is_not_a_number_stops_startup_naming_it(tmp_path):
    line = _refused(start(tmp_path, SESSION_COOKIE_AGE="abc"), "SESSION_COOKIE_AGE")

    assert "whole number" in line


def test_session_cookie_age_below_a_minute_stops_startup(tmp_path):
    _refused(start(tmp_path, SESSION_COOKIE_AGE="5"), "SESSION_COOKIE_AGE", "at least 60")


def test_unsupported_database_url_stops_startup_naming_database_url(tmp_path):
    line = _refused(start(tmp_path, DATABASE_URL="mysql://x"), "DATABASE_URL")

    assert "postgres://" in line


def test_database_url_error_does_not_print_the_password(tmp_path):
    result = start(tmp_path, DATABASE_URL="mysql://admin:hunter2-secret@db.example/healthspace")

    _refused(result, "DATABASE_URL")
    assert "hunter2-secret" not in result.stderr


def test_unknown_healthspace_env_stops_startup_naming_it(tmp_path):
    _refused(start(tmp_path, HEALTHSPACE_ENV="prod"), "HEALTHSPACE_ENV")


def test_production_without_secret_key_refuses_to_start(tmp_path):
    _refused(start(tmp_path, HEALTHSPACE_ENV="production"), "SECRET_KEY")


def test_production_with_a_short_secret_key_refuses_to_start(tmp_path):
    _refused(start(tmp_path, HEALTHSPACE_ENV="production", SECRET_KEY="short"), "SECRET_KEY")


def test_production_with_debug_on_refuses_to_start(tmp_path):
    result = start(tmp_path, HEALTHSPACE_ENV="production", DEBUG="true", SECRET_KEY=GOOD_SECRET)

    _refused(result, "DEBUG", "production")


def test_production_without_database_url_refuses_to_start(tmp_path):
    _refused(start(tmp_path, HEALTHSPACE_ENV="production", SECRET_KEY=GOOD_SECRET), "DATABASE_URL")


# --- The helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " True "])
def test_env_bool_reads_true_values(raw):
    assert env_bool("FLAG", False, {"FLAG": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_env_bool_reads_false_values(raw):
    assert env_bool("FLAG", True, {"FLAG": raw}) is False


@pytest.mark.parametrize("environ", [{}, {"FLAG": ""}, {"FLAG": "   "}])
def test_unset_or_blank_gives_the_default(environ):
    assert env_bool("FLAG", True, environ) is True
    assert env_int("FLAG", 7, environ) == 7
    assert env_str("FLAG", "fallback", environ) == "fallback"
    assert env_list("FLAG", ["a"], environ) == ["a"]
    assert env_choice("FLAG", "one", ("one", "two"), environ) == "one"
    assert env_url("FLAG", ("redis",), environ) is None


def test_env_bool_refuses_junk_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"FLAG must be a boolean.*'maybe'"):
        env_bool("FLAG", False, {"FLAG": "maybe"})


def test_env_int_reads_a_number():
    assert env_int("AGE", 1, {"AGE": " 1800 "}) == 1800


def test_env_int_refuses_junk_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"AGE must be a whole number, got 'abc'"):
        env_int("AGE", 1, {"AGE": "abc"})


def test_env_int_refuses_a_value_below_the_minimum():
    with pytest.raises(ImproperlyConfigured, match=r"AGE must be at least 60, got 5"):
        env_int("AGE", 1800, {"AGE": "5"}, minimum=60)


def test_env_list_splits_on_commas_and_drops_blanks():
    assert env_list("HOSTS", [], {"HOSTS": " a.example , b.example,, "}) == ["a.example", "b.example"]


def test_env_list_default_is_a_copy():
    default = ["a"]
    env_list("HOSTS", default, {}).append("b")
    assert default == ["a"]


def test_env_choice_refuses_an_unknown_value_listing_the_choices():
    with pytest.raises(ImproperlyConfigured, match=r"MODE must be one of one, two, got 'three'"):
        env_choice("MODE", "one", ("one", "two"), {"MODE": "three"})


def test_env_url_accepts_an_allowed_scheme():
    assert env_url("DB", ("postgres",), {"DB": "postgres://u:p@h/db"}) == "postgres://u:p@h/db"


@pytest.mark.parametrize("raw", ["mysql://x", "postgres://", "not a url", "postgres:/x"])
def test_env_url_refuses_other_schemes_and_junk(raw):
    with pytest.raises(ImproperlyConfigured, match=r"DB must be a URL starting with postgres://"):
        env_url("DB", ("postgres",), {"DB": raw})


def test_env_url_error_hides_credentials():
    with pytest.raises(ImproperlyConfigured) as error:
        env_url("DB", ("postgres",), {"DB": "mysql://admin:hunter2@db.example/x"})
    assert "hunter2" not in str(error.value)
    assert "db.example/x" in str(error.value)


def test_helpers_read_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("HEALTHSPACE_TEST_FLAG", "yes")
    assert env_bool("HEALTHSPACE_TEST_FLAG", False) is True


# --- Breach 7: the embedded default's secrets are generated, DEBUG only for loopback ------------

PRINT_SECRETS = "from django.conf import settings; print(settings.SECRET_KEY); print(settings.DOCUMENT_MASTER_KEYS)"
PRODUCTION = {
    "HEALTHSPACE_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "DATABASE_URL": "postgres://healthspace@127.0.0.1:9/healthspace",
    "DOCUMENT_MASTER_KEYS": "k1:" + "A" * 43 + "=",
    "JOURNAL_KEYS": "j1:" + "B" * 43 + "=",
    "JOURNAL_SIGNING_KEY": "C" * 43 + "=",
}


def test_first_start_generates_secrets_readable_by_the_owner_only(tmp_path):
    result = run_django(tmp_path, PRINT_SECRETS)

    assert result.returncode == 0, result.stderr
    folder = tmp_path / "var" / "secrets"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    for name in ("secret_key", "document_master_keys"):
        assert oct((folder / name).stat().st_mode & 0o777) == "0o600"
    assert (folder / "secret_key").read_text().strip() == result.stdout.splitlines()[0]
    assert len(result.stdout.splitlines()[0]) >= 50


def test_later_starts_reuse_the_generated_secrets(tmp_path):
    first = run_django(tmp_path, PRINT_SECRETS)
    second = run_django(tmp_path, PRINT_SECRETS)

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout


def test_two_installations_never_share_a_secret(tmp_path):
    one = run_django(tmp_path / "one", PRINT_SECRETS)
    other = run_django(tmp_path / "other", PRINT_SECRETS)

    first_lines, other_lines = one.stdout.splitlines(), other.stdout.splitlines()
    assert first_lines[0] != other_lines[0]
    assert first_lines[1] != other_lines[1]


def test_configured_secrets_are_used_and_nothing_is_generated(tmp_path):
    result = run_django(
        tmp_path,
        PRINT_SECRETS,
        SECRET_KEY=GOOD_SECRET,
        DOCUMENT_MASTER_KEYS=PRODUCTION["DOCUMENT_MASTER_KEYS"],
        JOURNAL_KEYS=PRODUCTION["JOURNAL_KEYS"],
        JOURNAL_SIGNING_KEY=PRODUCTION["JOURNAL_SIGNING_KEY"],
    )

    assert result.stdout.splitlines()[0] == GOOD_SECRET
    assert not (tmp_path / "var" / "secrets").exists()


def test_debug_is_on_by_default_for_loopback_hosts_only(tmp_path):
    show = "from django.conf import settings; print(settings.DEBUG)"

    assert run_django(tmp_path, show).stdout.strip() == "True"
    assert run_django(tmp_path, show, ALLOWED_HOSTS="health.example.org").stdout.strip() == "False"


def test_debug_on_with_a_public_host_refuses_to_start(tmp_path):
    result = run_django(tmp_path, ALLOWED_HOSTS="localhost,health.example.org", DEBUG="true")

    line = _refused(result, "DEBUG", "health.example.org")
    assert "localhost" not in line


def test_production_without_redis_refuses_to_start(tmp_path):
    _refused(run_django(tmp_path, **PRODUCTION, ALLOWED_HOSTS="health.example.org"), "REDIS_URL", "shared cache")


def test_production_without_allowed_hosts_refuses_to_start(tmp_path):
    _refused(run_django(tmp_path, **PRODUCTION, REDIS_URL="redis://127.0.0.1:9/0"), "ALLOWED_HOSTS")


def test_production_never_writes_secrets_into_var(tmp_path):
    result = run_django(tmp_path, **PRODUCTION, REDIS_URL="redis://127.0.0.1:9/0", ALLOWED_HOSTS="health.example.org")

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()
