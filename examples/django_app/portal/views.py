"""The portal's pages. Each counts the visit in the session, so Django sets ``sessionid``."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from cookieguard import i18n
from cookieguard.policy import render as render_policy

from .cookies import registry

DATASETS = {
    "air-quality": (
        "Air quality measurements",
        "Hourly NO2, PM10 and O3 readings from the city's monitoring stations.",
        ["station", "pollutant", "value (µg/m³)", "measured at"],
        [
            ["Les Frênes", "NO2", "21", "2026-11-20 08:00"],
            ["Les Frênes", "PM10", "17", "2026-11-20 08:00"],
            ["Grand-Place", "O3", "34", "2026-11-20 08:00"],
        ],
    ),
    "bike-stations": (
        "Bike-sharing stations",
        "Location and capacity of every bike-sharing station, updated daily.",
        ["station", "docks", "bikes available"],
        [["Gare", "24", "9"], ["Hôtel de Ville", "18", "3"], ["Campus", "30", "22"]],
    ),
}


def page(request: HttpRequest, template: str, context: dict[str, Any] | None = None) -> Any:
    request.session["visits"] = request.session.get("visits", 0) + 1
    context = {"visits": request.session["visits"], "datasets": DATASETS, **(context or {})}
    return render(request, f"portal/{template}", context)


def home(request: HttpRequest) -> HttpResponse:
    return page(request, "home.html")


def explore(request: HttpRequest) -> HttpResponse:
    return page(request, "explore.html")


@require_http_methods(["GET", "POST"])
def dataset(request: HttpRequest, slug: str) -> HttpResponse:
    """A dataset, with a CSRF-protected form to follow it (followed ones stay in the session)."""
    if slug not in DATASETS:
        raise Http404(f"no dataset called {slug!r}")
    followed = set(request.session.get("followed", []))
    if request.method == "POST":
        followed.symmetric_difference_update({slug})
        request.session["followed"] = sorted(followed)
        return redirect("dataset", slug=slug)
    title, description, columns, rows = DATASETS[slug]
    context = {
        "slug": slug,
        "title": title,
        "description": description,
        "columns": columns,
        "rows": rows,
        "following": slug in followed,
    }
    return page(request, "dataset.html", context)


def cookies(request: HttpRequest) -> HttpResponse:
    """The cookies the browser sent, HttpOnly ones included, with what the registry says."""
    held = [(name, registry.category_of(name)) for name in sorted(request.COOKIES)]
    return page(request, "cookies.html", {"held": held})


def policy_page(request: HttpRequest) -> HttpResponse:
    """The cookie policy, rendered from the registry in the active language."""
    lang = i18n.negotiate(get_language())
    fragment = mark_safe(render_policy(registry, "fragment", lang=lang))  # escaped by cookieguard
    return page(request, "policy.html", {"policy": fragment})
