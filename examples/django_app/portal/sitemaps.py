"""The portal's sitemap (``django.contrib.sitemaps``): the pages ``cookieguard_audit`` requests."""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .views import DATASETS


class PortalSitemap(Sitemap):
    def items(self) -> list[tuple[str, tuple[str, ...]]]:
        pages = [("home", ()), ("explore", ()), ("cookies", ()), ("policy", ())]
        return pages + [("dataset", (slug,)) for slug in DATASETS]

    def location(self, item: tuple[str, tuple[str, ...]]) -> str:
        name, args = item
        return reverse(name, args=args)


sitemaps = {"portal": PortalSitemap}
