app_name = "django_stepup"

urlpatterns = []
