from django.urls import include, path

urlpatterns = [
    path("api/", include("kiban.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kiban.ops.urls")),
    path("tidy/", include("kiban.engines.tidy.urls")),
    path("anon/", include("kiban.engines.anon.urls")),
    path("address/", include("kiban.engines.address.urls")),
    path("orgs/", include("kiban.orgs.urls")),
    path("accounts/", include("kiban.accounts.urls")),
    path("audit/", include("kiban.audit.urls")),
    path("", include("kiban.ui.urls")),
]
