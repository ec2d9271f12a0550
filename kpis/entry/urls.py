app_name = "entry"

urlpatterns = []
