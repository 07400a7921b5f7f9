"""``manage.py cookieguard_audit [/PATH ...]``: the site's cookies under every consent state.

The same audit and report as ``cookieguard audit``, through Django's test client
(see :mod:`cookieguard.django.audit`), over the paths given or every URL of the
site's sitemap. Exit 0 when clean, 1 on findings; a mistake is one
``CommandError`` line, exit 2.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError  # type: ignore[import-untyped]

from ...audit import SitemapError, audit_site
from ...conf import ConfigError


class Command(BaseCommand):  # type: ignore[misc]
    help = (
        "Request each path (default: every URL of the site's sitemap, else /) through "
        "Django's test client under every consent state (none, necessary only, each "
        "category alone, all) and report every cookie set. Exit 0 when clean, 1 on an "
        "undeclared cookie, a cookie that reached the client without consent, or a "
        "request that raised or answered 404 or 5xx."
    )
    requires_system_checks: list[str] = []  # a broken COOKIEGUARD is reported as one line

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="*", metavar="/PATH", help="a path to request")
        parser.add_argument(
            "--sitemap",
            metavar="/PATH",
            help="the sitemap (or sitemap index) whose URLs to audit (default: the one the "
            "URLconf routes to django.contrib.sitemaps)",
        )
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="the report's form"
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="also fail on optional cookies kept over 13 months",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The report names every undeclared cookie; the middleware's log lines would repeat it.
        logging.getLogger("cookieguard").addHandler(logging.NullHandler())
        sitemap = options["sitemap"]
        if sitemap is not None and not sitemap.startswith("/"):
            raise CommandError(
                f"--sitemap must be a path starting with '/': {sitemap}", returncode=2
            )

        def progress(path: str) -> None:
            self.stderr.write(f"cookieguard audit: GET {path}")

        try:
            report = audit_site(options["paths"], sitemap=sitemap, progress=progress)
        except ConfigError as error:
            raise CommandError(f"{error} ({error.id})", returncode=2) from None
        except (SitemapError, ValueError) as error:
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(
            report.to_json() if options["format"] == "json" else report.to_text(), ending=""
        )
        code = report.exit_code(strict=options["strict"])
        if code:
            raise SystemExit(code)
