"""Public pages of the registry, mounted at /orgs/ by kiban.urls."""

from django.urls import path

from kiban.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.search, name="search"),
    path("<str:code>/", views.detail, name="detail"),
]
