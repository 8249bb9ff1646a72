from django.urls import path

from . import views

app_name = "anon"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("jobs/<int:pk>/", views.detail, name="detail"),
    path("jobs/<int:pk>/report/", views.report, name="report"),
    path("jobs/<int:pk>/download/", views.download, name="download"),
]
