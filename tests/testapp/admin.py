from django.contrib import admin

from tests.testapp.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Search fields, as Django's own UserAdmin has: the token admin autocompletes users."""

    search_fields = ["email"]
    ordering = ["email"]
