"""The consent log's tables, migrated once and emptied after each test that uses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def migrated() -> None:
    call_command("migrate", verbosity=0)


@pytest.fixture
def db(migrated: None) -> Iterator[None]:
    from cookieguard.django.models import BannerText, ConsentRecord, RegistryDeclarations

    yield
    for model in (ConsentRecord, BannerText, RegistryDeclarations):
        model.objects.all().delete()
