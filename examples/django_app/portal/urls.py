from __future__ import annotations

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from . import views
from .sitemaps import sitemaps

urlpatterns = [
    path("", views.home, name="home"),
    path("explore/", views.explore, name="explore"),
    path("explore/dataset/<slug:slug>/", views.dataset, name="dataset"),
    path("cookies/", views.cookies, name="cookies"),
    path("policy/", views.policy_page, name="policy"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}),
    path("admin/", admin.site.urls),  # the consent log, read-only
]
