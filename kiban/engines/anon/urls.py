app_name = "anon"
urlpatterns: list = []
