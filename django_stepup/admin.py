"""Admin for tokens, MFA state and recovery codes.

A new token's secret is rendered once in the response to the add form (never
through the messages framework, whose cookie storage is signed, not
encrypted); the digest is never shown.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .conf import stepup_settings
from .models import MFAState, Token
from .subnets import normalise_subnets


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [
            (Token.KIND_API, _("API token")),
            (Token.KIND_LOGIN, _("login token, not promoted")),
            (Token.KIND_PROMOTED, _("promoted login token")),
        ]

    def queryset(self, request, queryset):
        conditions = {
            Token.KIND_API: Q(mfa__isnull=True),
            Token.KIND_LOGIN: Q(mfa=False),
            Token.KIND_PROMOTED: Q(mfa=True),
        }
        if self.value() in conditions:
            return queryset.filter(conditions[self.value()])
        return queryset


class ValidityFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [("valid", _("valid")), ("invalid", _("expired or user inactive"))]

    def queryset(self, request, queryset):
        if self.value() not in ("valid", "invalid"):
            return queryset
        if self.value() == "valid":
            return queryset.unexpired().filter(user__is_active=True)
        return queryset.exclude(pk__in=Token.objects.unexpired().filter(user__is_active=True))


class TokenAddForm(forms.ModelForm):
    perms = forms.MultipleChoiceField(
        label=_("permission flags"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("API tokens hold only the flags ticked here."),
    )

    class Meta:
        model = Token
        fields = [
            "user",
            "name",
            "max_age",
            "max_unused_period",
            "allowed_subnets",
            "perms",
            "auto_policy",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["perms"].choices = [(f, f) for f in stepup_settings.token_permissions]
        if self.instance.pk is not None:
            self.initial["perms"] = self.instance.perms

    def clean_allowed_subnets(self):
        try:
            return normalise_subnets(self.cleaned_data["allowed_subnets"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_perms(self):
        return sorted(self.cleaned_data["perms"])

    def clean(self):
        cleaned = super().clean()
        for field in ("max_age", "max_unused_period"):
            value = cleaned.get(field)
            if value is not None and value.total_seconds() < 0:
                self.add_error(field, _("Give a positive duration, or leave it empty."))
        return cleaned


class TokenChangeForm(TokenAddForm):
    class Meta(TokenAddForm.Meta):
        fields = [f for f in TokenAddForm.Meta.fields if f != "user"]


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = [
        "name_or_id",
        "user",
        "kind_label",
        "created",
        "last_used",
        "expires_at",
        "valid",
        "subnets",
        "flags",
    ]
    list_filter = [KindFilter, ValidityFilter, ("user", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user"]
    readonly_fields = ["id", "user", "created", "last_used", "mfa", "mfa_at", "expires_at"]
    actions = ["revoke_tokens", "revoke_login_tokens_of_users"]
    raw_id_fields = ["user"]

    def get_search_fields(self, request):
        user_model = get_user_model()
        return [
            f"user__{user_model.USERNAME_FIELD}",
            f"user__{user_model.get_email_field_name()}",
            "name",
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = TokenChangeForm if obj is not None else TokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return TokenAddForm.Meta.fields
        return [*self.readonly_fields, *TokenChangeForm.Meta.fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        token, secret = Token.objects.create_token(
            form.cleaned_data["user"],
            **{field: form.cleaned_data[field] for field in TokenChangeForm.Meta.fields},
        )
        obj.pk = token.pk
        obj.created = token.created
        request._stepup_new_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_stepup_new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "token": obj,
            "secret": secret,
            "title": _("Token created"),
        }
        response = TemplateResponse(request, "django_stepup/admin/token_secret.html", context)
        patch_cache_control(response, no_store=True)
        return response

    @admin.display(description=_("name"), ordering="name")
    def name_or_id(self, token):
        return str(token)

    @admin.display(description=_("kind"), ordering="mfa")
    def kind_label(self, token):
        return {
            Token.KIND_API: _("API"),
            Token.KIND_LOGIN: _("login"),
            Token.KIND_PROMOTED: _("promoted"),
        }[token.kind]

    @admin.display(description=_("valid"), boolean=True)
    def valid(self, token):
        return token.is_valid

    @admin.display(description=_("allowed subnets"))
    def subnets(self, token):
        return ", ".join(token.allowed_subnets)

    @admin.display(description=_("flags"))
    def flags(self, token):
        if token.is_login_token:
            return _("all (login token)")
        return ", ".join(token.perms) or "-"

    @admin.action(description=_("Revoke the selected tokens"), permissions=["delete"])
    def revoke_tokens(self, request, queryset):
        count, _deleted = Token.objects.filter(pk__in=queryset.values("pk")).delete()
        self.message_user(
            request,
            ngettext("Revoked %d token.", "Revoked %d tokens.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Revoke all login tokens of the selected tokens' users"),
        permissions=["delete"],
    )
    def revoke_login_tokens_of_users(self, request, queryset):
        users = queryset.values("user")
        count, _deleted = Token.objects.login_tokens().filter(user__in=users).delete()
        self.message_user(
            request,
            ngettext("Revoked %d login token.", "Revoked %d login tokens.", count) % count,
            messages.SUCCESS,
        )


@admin.register(MFAState)
class MFAStateAdmin(admin.ModelAdmin):
    list_display = ["user", "enabled", "failure_count", "last_failure_at", "recovery_codes_left"]
    list_filter = ["enabled"]
    list_select_related = ["user"]
    readonly_fields = ["user", "enabled", "failure_count", "last_failure_at", "recovery_codes_left"]
    fields = readonly_fields
    actions = ["reset_lockout"]

    def get_search_fields(self, request):
        return [f"user__{get_user_model().USERNAME_FIELD}"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_recovery_codes_left=Count("user__stepup_recovery_codes"))
        )

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("recovery codes left"), ordering="_recovery_codes_left")
    def recovery_codes_left(self, state):
        return state._recovery_codes_left

    @admin.action(description=_("Reset the verification lockout"), permissions=["change"])
    def reset_lockout(self, request, queryset):
        count = queryset.update(failure_count=0, last_failure_at=None)
        self.message_user(
            request,
            ngettext("Reset %d lockout.", "Reset %d lockouts.", count) % count,
            messages.SUCCESS,
        )
