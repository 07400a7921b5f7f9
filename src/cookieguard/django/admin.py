"""The consent log in Django's admin: read-only, searchable by consent id, filtered by date
and by granted category.

Nobody edits or deletes proof of consent from the admin (no add, change or
delete permission, whoever asks); retention is ``manage.py cookieguard_consents
purge``. Staff with the model's *view* permission (or superusers) see it.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps  # type: ignore[import-untyped]
from django.contrib import admin  # type: ignore[import-untyped]
from django.db.models import QuerySet  # type: ignore[import-untyped]
from django.http import HttpRequest  # type: ignore[import-untyped]

from . import conf
from .models import BannerText, ConsentRecord, RegistryDeclarations

__all__ = ["ADMINS", "ConsentRecordAdmin", "GrantedFilter", "ReadOnlyAdmin"]


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[misc]
    """Shows records; never adds, changes or deletes one."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GrantedFilter(admin.SimpleListFilter):  # type: ignore[misc]
    """Records whose consent granted a category (``?granted=statistics``).

    ``granted`` is kept as a JSON list (``["necessary", "statistics"]``), so a
    category is matched as its quoted JSON string, which no other name contains.
    """

    title = "granted category"
    parameter_name = "granted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        try:
            categories = conf.registry().categories
        except conf.ConfigError:  # manage.py check says why
            return []
        return [(c.name, c.label or c.name) for c in categories]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(granted__contains=json.dumps(value))


class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "consent_id",
        "given_at",
        "action",
        "granted_categories",
        "revision",
        "language",
        "gpc",
    )
    list_filter = (("given_at", admin.DateFieldListFilter), GrantedFilter, "action", "gpc")
    date_hierarchy = "given_at"
    # The id a visitor quotes, exactly: this consent, and the one that replaced it.
    search_fields = ("=consent_id", "=previous_id")
    search_help_text = "A consent ID, as the visitor quotes it"

    @admin.display(description="granted")  # type: ignore[untyped-decorator]
    def granted_categories(self, record: ConsentRecord) -> str:
        return ", ".join(json.loads(record.granted))


class BannerTextAdmin(ReadOnlyAdmin):
    list_display = ("banner_hash", "first_seen")
    search_fields = ("=banner_hash",)


class RegistryDeclarationsAdmin(ReadOnlyAdmin):
    list_display = ("revision", "registry_hash", "first_seen")
    search_fields = ("=registry_hash",)


#: The models and their admins, registered on the default site when the admin is installed.
ADMINS = (
    (ConsentRecord, ConsentRecordAdmin),
    (BannerText, BannerTextAdmin),
    (RegistryDeclarations, RegistryDeclarationsAdmin),
)

if apps.is_installed("django.contrib.admin"):  # imported by its autodiscovery
    for _model, _admin in ADMINS:
        admin.site.register(_model, _admin)
