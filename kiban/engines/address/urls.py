app_name = "address"
urlpatterns: list = []
