"""The consent log in Django's database: the model, ``on_consent`` through the ORM, the admin."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import timedelta
from io import StringIO
from typing import Any

import django
import pytest
from django.contrib.admin import AdminSite
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from tests.support.cases import REGISTRY

from cookieguard.consentlog import EXPORT_FIELDS, ConsentRecord, banner_texts
from cookieguard.consentlog.fingerprint import registry_declarations, sha256
from cookieguard.consentlog.log import RecordMaker
from cookieguard.django.admin import ADMINS, ConsentRecordAdmin, GrantedFilter
from cookieguard.django.consentlog import DjangoConsentLog
from cookieguard.django.models import BannerText, RegistryDeclarations, _model_field
from cookieguard.django.models import ConsentRecord as Row

from . import DRIVERS, SITE_MIDDLEWARE

pytestmark = pytest.mark.usefixtures("db")

LOG = "cookieguard.django.consentlog.log_consent"


def logged(on_consent: Any = LOG, **settings: Any) -> Any:
    options = {"REGISTRY": REGISTRY, "OPTIONS": {"on_consent": on_consent}}
    return override_settings(COOKIEGUARD=options, MIDDLEWARE=SITE_MIDDLEWARE, **settings)


def consent(client: Client, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post(
        "/cookieguard/consent", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_the_model_has_the_records_fields_in_their_order() -> None:
    names = [f.name for f in Row._meta.get_fields() if f.name != "id"]
    assert names == [f.name for f in fields(ConsentRecord)] == list(EXPORT_FIELDS)


def test_a_field_added_to_the_record_gives_old_rows_its_default() -> None:
    # So that a new record field (such as a list of services) takes one generated migration.
    @dataclass(frozen=True)
    class Later:
        services: tuple[str, ...] = field(default=(), metadata={"kind": "names", "index": False})
        note: str | None = field(default=None, metadata={"kind": "text", "index": False})

    services, note = (_model_field(f) for f in fields(Later))
    assert (services.default, services.null) == ("[]", False)
    assert note.null


def test_the_migrations_are_those_of_the_models() -> None:
    # makemigrations --check exits non-zero when a model (derived from the record) changed.
    call_command("makemigrations", "cookieguard", check=True, dry_run=True, stdout=StringIO())


def test_a_consent_saved_through_the_endpoint_is_one_record() -> None:
    with logged():
        client = Client()
        answer = consent(
            client,
            {"categories": ["statistics"]},
            user_agent="Mozilla/5.0 (test)",
            accept_language="fr-FR,fr;q=0.9",
        )
    [row] = Row.objects.all()
    record = row.as_record()
    assert record.consent_id == answer["consent_id"]
    assert record.granted == ("necessary", "statistics")
    assert (record.action, record.revision, record.gpc) == ("save", REGISTRY.revision, False)
    assert record.user_agent == "Mozilla/5.0 (test)"
    # LocaleMiddleware would speak French to this visitor: the banner was French.
    assert record.language == "fr"
    assert BannerText.objects.get(banner_hash=record.banner_hash).texts == banner_texts("fr")
    assert record.banner_hash == sha256(banner_texts("fr"))
    declared = RegistryDeclarations.objects.get(revision=REGISTRY.revision)
    assert declared.registry_hash == record.registry_hash
    assert declared.declarations == registry_declarations(REGISTRY)
    assert record.registry_hash == RecordMaker(REGISTRY).registry_hash


def test_a_change_of_mind_is_a_new_record_linked_to_the_old_one() -> None:
    with logged():
        client = Client()
        first = consent(client, {"action": "accept_all"})
        second = consent(client, {"action": "reject_all"})
    records = [row.as_record() for row in Row.objects.order_by("given_at", "id")]
    assert [r.consent_id for r in records] == [first["consent_id"], second["consent_id"]]
    assert records[1].previous_id == first["consent_id"]
    assert records[1].granted == ("necessary",)


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_every_handler_records_through_the_orm(driver: str) -> None:
    with logged():
        response = DRIVERS[driver]()(
            method="POST",
            path="/cookieguard/consent",
            headers=[("Host", "testserver"), ("Content-Type", "application/json")],
            body=b'{"action": "accept_all"}',
        )
    assert response.status == 200
    assert Row.objects.get().consent_id == json.loads(response.body)["consent_id"]


def test_a_record_is_written_once_per_consent_id() -> None:
    events: list[Any] = []
    log = DjangoConsentLog(registry=REGISTRY)

    def on_consent(event: Any) -> None:
        events.append(event)
        log(event)

    with logged(on_consent):
        consent(Client(), {"action": "accept_all"})
    log(events[0])  # a replay
    log.record(events[0])
    assert Row.objects.count() == 1
    assert BannerText.objects.count() == RegistryDeclarations.objects.count() == 1


def test_a_database_that_fails_loses_the_record_not_the_choice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = DjangoConsentLog(registry=REGISTRY, using="no-such-database")
    with logged(log):
        answer = Client().post("/cookieguard/consent", {"action": "accept_all"})
    assert answer.status_code == 303
    assert "cookies_preferences" in answer.cookies
    assert log.failures == 1
    assert "could not record consent" in caplog.text
    assert Row.objects.count() == 0


def test_the_options_are_consent_logs_and_checked_at_once() -> None:
    with pytest.raises(ValueError, match="ip_salt"):
        DjangoConsentLog(client_ip="hash")
    with logged(DjangoConsentLog(client_ip="omit")):
        consent(Client(REMOTE_ADDR="198.51.100.7"), {"action": "accept_all"})
    with logged():
        consent(Client(REMOTE_ADDR="198.51.100.7"), {"action": "accept_all"})
    assert sorted(Row.objects.values_list("client_ip", flat=True), key=str) == [
        "198.51.100.0/24",
        None,
    ]


def test_without_use_tz_times_are_kept_in_utc() -> None:
    with logged(USE_TZ=False):
        answer = consent(Client(), {"action": "accept_all"})
        record = Row.objects.get().as_record()
    assert record.consent_id == answer["consent_id"]
    assert record.given_at.utcoffset() is not None
    with logged():
        assert Row.objects.get().as_record().given_at == record.given_at


# -- the admin ---------------------------------------------------------------------


def admin_of(model: Any = Row) -> Any:
    return dict(ADMINS)[model](model, AdminSite())


def some_records() -> list[str]:
    with logged():
        ids = [
            consent(Client(), body)["consent_id"]
            for body in (
                {"action": "accept_all"},
                {"categories": ["statistics"]},
                {"action": "reject_all"},
            )
        ]
    return ids


def test_the_admin_is_valid_and_read_only() -> None:
    request = RequestFactory().get("/admin/")
    for model, _ in ADMINS:
        model_admin = admin_of(model)
        assert model_admin.check() == []
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)


def test_the_admin_finds_a_consent_by_the_id_the_visitor_quotes() -> None:
    ids = some_records()
    model_admin: ConsentRecordAdmin = admin_of()
    request = RequestFactory().get("/admin/")
    found, _ = model_admin.get_search_results(request, Row.objects.all(), ids[1])
    assert [r.consent_id for r in found] == [ids[1]]
    found, _ = model_admin.get_search_results(request, Row.objects.all(), ids[1][:8])
    assert list(found) == []


def granted_filter(value: str) -> GrantedFilter:
    request = RequestFactory().get("/admin/", {"granted": value})
    params = {"granted": [value]}  # Django 5 hands a filter lists; 4.2 strings
    if django.VERSION < (5, 0):
        params = {"granted": value}  # type: ignore[dict-item]
    return GrantedFilter(request, params, Row, admin_of())


def test_the_admin_filters_by_granted_category() -> None:
    ids = some_records()
    request = RequestFactory().get("/admin/")
    by = {
        name: {r.consent_id for r in granted_filter(name).queryset(request, Row.objects.all())}
        for name in ("necessary", "statistics", "marketing")
    }
    assert by == {"necessary": set(ids), "statistics": {ids[0], ids[1]}, "marketing": {ids[0]}}
    lookups = granted_filter("statistics").lookups(request, admin_of())
    assert [name for name, _ in lookups] == [c.name for c in REGISTRY.categories]
    assert admin_of().granted_categories(Row.objects.get(consent_id=ids[1])) == (
        "necessary, statistics"
    )


def test_the_admin_filters_by_date() -> None:
    old, new, _ = some_records()
    Row.objects.filter(consent_id=old).update(given_at=timezone.now() - timedelta(days=40))
    model_admin = admin_of()
    assert model_admin.date_hierarchy == "given_at"
    [(field_path, date_filter)] = [f for f in model_admin.list_filter if isinstance(f, tuple)]
    since = str(timezone.now() - timedelta(days=7))  # as its "Past 7 days" link says it
    params: dict[str, Any] = {"given_at__gte": since}
    if django.VERSION >= (5, 0):
        params = {k: [v] for k, v in params.items()}
    request = RequestFactory().get("/admin/", {"given_at__gte": since})
    field = Row._meta.get_field(field_path)
    past_week = date_filter(field, request, params, Row, model_admin, field_path)
    found = {r.consent_id for r in past_week.queryset(request, Row.objects.all())}
    assert new in found and old not in found
    assert len(found) == 2
