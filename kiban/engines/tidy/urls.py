app_name = "tidy"
urlpatterns: list = []
