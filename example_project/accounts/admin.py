from django.contrib import admin

from .models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Accounts, searchable by email: the token admin picks its user with autocomplete."""

    list_display = ["email", "is_active", "is_staff", "created"]
    search_fields = ["email"]
    ordering = ["email"]
    fields = ["email", "is_active", "is_staff", "is_superuser", "created", "last_login"]
    readonly_fields = ["created", "last_login"]
