"""Matomo's server-side tracking, as a site adds it: it sets its cookies on every page.

It does not ask about consent; cookieguard's middleware removes the cookies
until the visitor allows statistics. They are HttpOnly, out of any script's reach.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

#: Matomo names its cookies after the site id and a hash of the domain.
SUFFIX = "1.7c3e"
VISITOR = f"_pk_id.{SUFFIX}"
VISIT = f"_pk_ses.{SUFFIX}"


class MatomoMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            visitor = request.COOKIES.get(VISITOR, "5f0c2a9e8b7d6c4a.1700000000.")
            response.set_cookie(VISITOR, visitor, max_age=395 * 86400, httponly=True)
            response.set_cookie(VISIT, "1", max_age=30 * 60, httponly=True)
        return response
