"""``manage.py cookieguard_consents`` and ``manage.py cookieguard_audit``, as a user runs them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import timezone
from tests.support.cases import REGISTRY, SERVICES

from cookieguard.consentlog import EXPORT_FIELDS
from cookieguard.django.consentlog import DjangoConsentLog
from cookieguard.django.models import ConsentRecord as Row

from . import OURS, SITE_MIDDLEWARE

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "examples" / "django_app" / "manage.py"
LOGGED = {
    "REGISTRY": REGISTRY,
    "OPTIONS": {"on_consent": "cookieguard.django.consentlog.log_consent"},
}


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def records(db: None) -> list[str]:
    """Three consents, the second a change of mind of the first; the third 400 days old."""
    with override_settings(COOKIEGUARD=LOGGED, MIDDLEWARE=SITE_MIDDLEWARE):
        client = Client()
        post = "/cookieguard/consent"
        ids = [
            client.post(post, body, content_type="application/json").json()["consent_id"]
            for body in ({"action": "accept_all"}, {"categories": ["statistics"]})
        ]
        other = Client().post(post, {"action": "reject_all"}, content_type="application/json")
        ids.append(other.json()["consent_id"])
    Row.objects.filter(consent_id=ids[2]).update(given_at=timezone.now() - timedelta(days=400))
    return ids


# -- cookieguard_consents -------------------------------------------------------------


def test_show_prints_a_consent_and_its_history(records: list[str]) -> None:
    out, _ = run("cookieguard_consents", "show", records[1])
    assert f"consent_id     {records[1]}" in out
    assert "granted        necessary, statistics" in out
    assert f"previous_id    {records[0]}" in out
    history = out.split("history, oldest first:\n")[1].splitlines()
    assert [line[2:].split()[1] for line in history] == records[:2]
    assert history[1].startswith("* ")


def test_show_prints_the_services_granted_one_by_one(db: None) -> None:
    # A log of its own: log_consent keeps the registry of the first consent it records.
    logged = {"REGISTRY": SERVICES, "OPTIONS": {"on_consent": DjangoConsentLog(registry=SERVICES)}}
    with override_settings(COOKIEGUARD=logged, MIDDLEWARE=SITE_MIDDLEWARE):
        client = Client()
        body = {"action": "grant", "service": "youtube"}
        answer = client.post("/cookieguard/consent", body, content_type="application/json")
    out, _ = run("cookieguard_consents", "show", answer.json()["consent_id"])
    assert "\nservices       youtube\n" in out


def test_show_of_an_unknown_id_exits_1(records: list[str]) -> None:
    err = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("cookieguard_consents", "show", "no-such-id", stderr=err)
    assert exited.value.code == 1
    assert err.getvalue() == "no consent recorded with ID no-such-id\n"


def test_export_writes_every_record_as_json_lines(records: list[str]) -> None:
    out, _ = run("cookieguard_consents", "export")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["consent_id"] for r in rows] == [records[2], records[0], records[1]]  # oldest first
    assert list(rows[0]) == list(EXPORT_FIELDS)
    assert rows[1]["granted"] == [c.name for c in REGISTRY.categories]


def test_export_as_csv_to_a_file_since_a_date(records: list[str], tmp_path: Path) -> None:
    target = tmp_path / "consents.csv"
    _, err = run(
        "cookieguard_consents", "export", "--format", "csv", "-o", str(target), "--since", "30d"
    )
    assert err == f"exported 2 records to {target}\n"
    with target.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(EXPORT_FIELDS)
    assert [r["consent_id"] for r in rows] == records[:2]
    assert rows[1]["granted"] == "necessary statistics"
    assert rows[1]["gpc"] == "false"


def test_purge_deletes_what_is_older_than_the_age(records: list[str]) -> None:
    out, _ = run("cookieguard_consents", "purge", "--older-than", "13m")
    assert out.startswith("purged 1 records given before ")
    assert sorted(Row.objects.values_list("consent_id", flat=True)) == sorted(records[:2])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["purge", "--older-than", "yesterday"], r"'yesterday' is neither a date \(2026-01-31\)"),
        (["export", "--until", "soon"], "neither a date"),
        (["export", "--format", "xml"], "invalid choice: 'xml'"),
        (["--database", "nope", "export"], "no database 'nope' in settings.DATABASES"),
    ],
)
def test_mistakes_are_command_errors(db: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("cookieguard_consents", *args)


def test_an_output_that_cannot_be_written_creates_nothing(db: None, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.jsonl"
    with pytest.raises(CommandError, match=f"cannot write {target}: No such file"):
        call_command("cookieguard_consents", "export", "-o", str(target))
    assert not target.parent.exists()


# -- on the command line: one line, no traceback ---------------------------------------


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORTAL_DB": str(tmp_path / "portal.db"), "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_on_the_command_line_a_missing_table_is_one_line(tmp_path: Path) -> None:
    done = manage(tmp_path, "cookieguard_consents", "export")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("CommandError: cannot read the consent log: no such table")
    assert "migrate cookieguard" in done.stderr


def test_the_example_is_audited_over_its_sitemap_and_is_clean(tmp_path: Path) -> None:
    assert manage(tmp_path, "migrate", "--noinput", "-v0").returncode == 0
    done = manage(tmp_path, "cookieguard_audit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "result: clean" in done.stdout
    requested = [line.split("GET ")[1] for line in done.stderr.splitlines()]
    assert requested == [
        "/",
        "/explore/",
        "/cookies/",
        "/policy/",
        "/explore/dataset/air-quality/",
        "/explore/dataset/bike-stations/",
    ]
    # Matomo's cookies are set on every page, and reach the client only with statistics.
    matomo = "set in: every state; reached the client in: only:statistics, all"
    assert done.stdout.count(matomo) == 2 * len(requested)


ADMIN_SCRIPT = """
import json
from django.contrib.auth.models import User
from django.test import Client

client = Client(HTTP_HOST="localhost")
ids = [
    client.post("/cookieguard/consent", {"categories": c}, content_type="application/json")
    .json()["consent_id"]
    for c in (["statistics"], ["preferences"])
]
client.force_login(User.objects.create_superuser("admin", "admin@example.test", "pw"))
base = "/admin/cookieguard/consentrecord/"
pages = {
    "statistics": client.get(base + "?granted=statistics"),
    "search": client.get(base, {"q": ids[1]}),
    "past_7_days": client.get(base),
}
print(json.dumps({
    "ids": ids,
    "found": {k: [i for i in ids if i in r.content.decode()] for k, r in pages.items()},
    "status": {k: r.status_code for k, r in pages.items()},
    "add": client.get(base + "add/").status_code,
    "delete": client.post(base + "1/delete/", {"post": "yes"}).status_code,
    "change": client.post(base + "1/change/", {"action": "forged"}).status_code,
    "filters": [
        f in pages["statistics"].content.decode() for f in ("By granted category", "By given at")
    ],
}))
"""


def test_the_examples_admin_shows_the_log_read_only(tmp_path: Path) -> None:
    assert manage(tmp_path, "migrate", "--noinput", "-v0").returncode == 0
    done = manage(tmp_path, "shell", "-c", ADMIN_SCRIPT)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])  # after what the shell says
    ids = seen["ids"]
    assert seen["status"] == {"statistics": 200, "search": 200, "past_7_days": 200}
    assert seen["found"] == {"statistics": ids[:1], "search": ids[1:], "past_7_days": ids}
    assert (seen["add"], seen["delete"]) == (403, 403)
    assert seen["change"] == 403
    assert seen["filters"] == [True, True]
    assert Path(tmp_path / "portal.db").exists()


# -- cookieguard_audit ------------------------------------------------------------------


def audit(*args: str, **settings: Any) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    with override_settings(**settings):
        try:
            call_command("cookieguard_audit", *args, stdout=out, stderr=err)
            code = 0
        except SystemExit as exited:
            code = int(exited.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_the_audit_requests_every_url_of_the_sitemap() -> None:
    code, out, err = audit(MIDDLEWARE=SITE_MIDDLEWARE)
    assert err.splitlines() == ["cookieguard audit: GET /site", "cookieguard audit: GET /page"]
    # /site sets "ads" on a raw header; it is marketing and stripped without consent: clean.
    assert code == 0, out
    assert f"(WSGI, wrapped in cookieguard, registry revision {REGISTRY.revision})" in out
    assert "_pk_id.1.ab  [statistics]" in out
    assert "result: clean" in out


def test_the_audit_fails_on_findings_with_exit_1() -> None:
    bare = {"REGISTRY": "tests.test_django.test_django_checks.BARE"}
    code, out, _ = audit(
        "/site", "/nowhere", "--format", "json", COOKIEGUARD=bare, MIDDLEWARE=SITE_MIDDLEWARE
    )
    assert code == 1
    report = json.loads(out)
    kinds = {(f["kind"], f["name"]) for f in report["findings"]}
    assert ("undeclared", "ads") in kinds
    assert ("error", "") in kinds  # /nowhere answered 404
    assert report["paths"] == ["/site", "/nowhere"]


def test_a_site_without_the_middleware_is_audited_as_not_wrapped() -> None:
    unguarded = [m for m in SITE_MIDDLEWARE if m != OURS]
    code, out, _ = audit("/stream", MIDDLEWARE=unguarded)
    assert code == 1
    assert "NOT wrapped in cookieguard" in out
    assert "'_pk_id.1.ab' (statistics) on GET /stream reached the client without consent" in out


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        (["site"], {}, "paths must start with '/': site"),
        (["--sitemap", "/nowhere.xml"], {}, "the sitemap /nowhere.xml answered 404"),
        (["--sitemap", "/page"], {}, "the sitemap /page is not XML"),
        (["--sitemap", "sitemap.xml"], {}, "--sitemap must be a path"),
        ([], {"COOKIEGUARD": None}, r"settings.COOKIEGUARD is missing \(cookieguard.E001\)"),
    ],
)
def test_audit_mistakes_are_command_errors(
    args: list[str], settings: dict[str, Any], message: str
) -> None:
    with override_settings(**settings), pytest.raises(CommandError, match=message):
        call_command("cookieguard_audit", *args, stdout=StringIO(), stderr=StringIO())
