from django.contrib import admin
from django.contrib.auth import get_user_model

# The host's user admin, as a project has one (Django's own User registers itself): searchable,
# so the token admin autocompletes users.
if not admin.site.is_registered(get_user_model()):
    username_field = get_user_model().USERNAME_FIELD
    admin.site.register(get_user_model(), search_fields=[username_field], ordering=[username_field])
