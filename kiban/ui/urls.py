from django.urls import path

from kiban.ui import views

app_name = "ui"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("acting-org/", views.switch_org, name="switch_org"),
    path("export/", views.export_org, name="export_org"),
]
