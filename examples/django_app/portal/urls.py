from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("explore/", views.explore, name="explore"),
    path("explore/dataset/<slug:slug>/", views.dataset, name="dataset"),
    path("cookies/", views.cookies, name="cookies"),
    path("policy/", views.policy_page, name="policy"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language
]
