"""Admin for tokens and their policies, TOTP factors, MFA state, recovery codes and audit events.

A new token's secret is rendered once in the response to the add form (never
through the messages framework, whose cookie storage is signed, not
encrypted); the digest is never shown. Policies are edited inline under their
token, one inline per declared scope, and written through
:mod:`django_stepup.policy_store`, so the API's invariants hold here too.

Internal: may change without notice.
"""

import copy
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import display_for_value
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.exceptions import ValidationError as APIValidationError

from . import inventory, lifetimes, otp, policy_store, revocation, signals, token_store
from .audit import describe
from .conf import stepup_settings
from .models import AuditEvent, MFAState, Token, TokenPolicy, WebAuthnDevice
from .policies import PolicyScope, get_scopes, specificity
from .serializers import validate_max_unused_period
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
        value = self.value()
        if value in conditions:
            return queryset.filter(conditions[value])
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


class RiskFilter(admin.SimpleListFilter):
    """The risky groups of the inventory (:mod:`django_stepup.inventory`), default thresholds."""

    title = _("risk")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return list(inventory.RISKS.items())

    def queryset(self, request, queryset):
        if self.value() not in inventory.RISKS:
            return queryset
        return inventory.with_risk(queryset, self.value(), inventory.Thresholds())


#: How Django's duration fields read their input, for the lifetime fields' help text.
DURATION_HELP = _(
    "[DD] [HH:[MM:]]ss, e.g. 7 00:00:00 for 7 days or 1:00:00 for an hour; empty: %(empty)s."
)


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
        help_texts = {
            "max_age": DURATION_HELP % {"empty": _("the token never expires")},
            "max_unused_period": DURATION_HELP % {"empty": _("no idle limit")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["perms"]).choices = [
            (f, f) for f in stepup_settings.token_permissions
        ]
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
        cleaned = super().clean() or {}
        for field in ("max_age", "max_unused_period"):
            value = cleaned.get(field)
            if value is not None and value.total_seconds() < 0:
                self.add_error(field, _("Give a positive duration, or leave it empty."))
        if self.instance.mfa is None:
            for field, messages_ in lifetimes.lifetime_errors(
                {field: cleaned.get(field) for field in lifetimes.CAPS if field not in self.errors}
            ).items():
                self.add_error(field, messages_)
        if "max_unused_period" not in self.errors:
            try:
                validate_max_unused_period(cleaned.get("max_unused_period"))
            except APIValidationError as error:
                self.add_error("max_unused_period", _messages(error.detail))
        user = cleaned.get("user")
        if self.instance._state.adding and user is not None:
            # Locks the user's row until the admin's transaction ends, through the save.
            try:
                token_store.check_token_capacity(user)
            except policy_store.Conflict as error:
                self.add_error("user", str(error.detail["detail"]))
        return cleaned


class TokenChangeForm(TokenAddForm):
    class Meta(TokenAddForm.Meta):
        fields = [f for f in TokenAddForm.Meta.fields if f != "user"]


# -- policies, inline under their token ----------------------------------------------------


class _DryRun(Exception):
    """Raised to roll back the trial run of a formset's policy writes."""


def _messages(detail):
    """The messages of a DRF error detail (string, list or dict of lists), flattened.

    A coded error's body (``{"detail": ..., "code": ...}``, e.g. a ``Conflict``) is one
    message: its code is for API clients, not a line to show.
    """
    if isinstance(detail, dict):
        if detail.keys() == {"detail", "code"}:
            return _messages(detail["detail"])
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


class PolicyForm(forms.ModelForm):
    """One policy of ``scope``: a text field per dimension (empty: any), its permissions.

    ``add`` lets an all-empty row (the default policy) count as a new policy; on the rows
    of existing policies it is ticked and disabled.
    """

    scope: PolicyScope

    add = forms.BooleanField(
        label=_("add"),
        required=False,
        help_text=_("Tick to add a row whose dimensions are all empty (the default policy)."),
    )

    def __init__(self, *args, token, prefetched, **kwargs):
        super().__init__(*args, **kwargs)
        self.token = token
        self.policy_values = None
        if not self.instance._state.adding:
            self.fields["add"].disabled = True
            self.initial["add"] = True
            for dimension in self.scope.dimensions:
                self.initial[dimension.name] = dimension.to_representation(
                    self.instance.values.get(dimension.name), prefetched.get(dimension.name)
                )

    def clean(self):
        cleaned = super().clean() or {}
        values: dict[str, Any] = {}
        for dimension in self.scope.dimensions:
            raw = cleaned.get(dimension.name)
            if raw in (None, ""):
                values[dimension.name] = None
                continue
            try:
                value = dimension.get_field().run_validation(raw)
                values[dimension.name] = dimension.to_stored(value, self.token.user)
            except APIValidationError as error:
                self.add_error(dimension.name, _messages(error.detail))
        self.policy_values = values
        return cleaned


class PolicyFormSet(forms.BaseInlineFormSet):
    """The policies of one token in one scope, written through :mod:`~django_stepup.policy_store`.

    ``clean`` locks the token row (held until the admin's transaction ends) and runs
    the writes once in a savepoint that is rolled back: whatever the store refuses
    becomes a form error and nothing is written. The save then runs the same writes.
    """

    scope: PolicyScope

    @classmethod
    def get_default_prefix(cls):
        return f"policies-{cls.scope.name}"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policies = list(self.get_queryset())
        self.prefetched = {
            dimension.name: dimension.prefetch(
                [policy.values.get(dimension.name) for policy in policies]
            )
            for dimension in self.scope.dimensions
        }

    def get_form_kwargs(self, index):
        return {
            **super().get_form_kwargs(index),
            "token": self.instance,
            "prefetched": self.prefetched,
        }

    def writes(self):
        """``(operation, form)`` pairs in an order the invariants allow.

        Specific policies go before the default is deleted; a new default is
        created before the new specific policies.
        """
        deletions, updates, creations = [], [], []
        for form in self.initial_forms:
            if self._should_delete_form(form):  # type: ignore[attr-defined]
                deletions.append(form)
            elif form.has_changed():
                updates.append(form)
        for form in self.extra_forms:
            if form.has_changed() and not self._should_delete_form(form):  # type: ignore[attr-defined]
                creations.append(form)
        names = self.scope.dimension_names
        creations.sort(
            key=lambda form: specificity(cast(PolicyForm, form).policy_values or {}, names)
        )
        deletions.sort(key=lambda form: form.instance.is_default)
        return [
            *(("delete", form) for form in deletions if not form.instance.is_default),
            *(("update", form) for form in updates),
            *(("create", form) for form in creations),
            *(("delete", form) for form in deletions if form.instance.is_default),
        ]

    def _write(self, operation, form, policy):
        if operation == "delete":
            policy_store.delete_policy(policy)
            return policy
        perm_write = form.cleaned_data["perm_write"]
        if operation == "update":
            perm_read = form.cleaned_data.get("perm_read", policy.perm_read)
            return policy_store.update_policy(
                policy, self.scope, form.policy_values, perm_write=perm_write, perm_read=perm_read
            )
        return policy_store.create_policy(
            self.instance,
            self.scope,
            form.policy_values,
            perm_write=perm_write,
            perm_read=form.cleaned_data.get("perm_read", True),
        )

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        writes = self.writes()
        if not writes and not self.instance.auto_policy:
            return
        if transaction.get_connection().in_atomic_block:
            policy_store.lock_token(self.instance)
        refused = []
        try:
            with transaction.atomic():
                Token.objects.filter(pk=self.instance.pk).update(
                    auto_policy=self.instance.auto_policy
                )
                for operation, form in writes:
                    try:
                        self._write(operation, form, copy.copy(form.instance))
                    except (APIValidationError, policy_store.Conflict) as error:
                        refused.append((operation, form, _messages(error.detail)))
                if self.instance.auto_policy:
                    try:
                        policy_store.ensure_restrictive_defaults(self.instance)
                    except APIValidationError as error:
                        refused.append(("auto_policy", None, _messages(error.detail)))
                raise _DryRun
        except _DryRun:
            pass
        non_form_errors = []
        for operation, form, errors in refused:
            # The admin skips the errors of rows marked for deletion: report those above.
            if form is None or operation == "delete":
                non_form_errors.extend(errors)
            else:
                form.add_error(None, errors)
        if non_form_errors:
            raise forms.ValidationError(non_form_errors)

    def save(self, commit=True):
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        for operation, form in self.writes():
            policy = self._write(operation, form, form.instance)
            if operation == "create":
                self.new_objects.append(policy)
            elif operation == "update":
                self.changed_objects.append((policy, form.changed_data))
            else:
                self.deleted_objects.append(policy)
        return self.new_objects + [policy for policy, _fields in self.changed_objects]


class PolicyInline(admin.TabularInline):
    model = TokenPolicy
    form = PolicyForm
    formset = PolicyFormSet
    extra = 1
    scope: PolicyScope

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope=self.scope.name)


def policy_inline(scope):
    """The inline class editing the policies of ``scope``."""
    permissions = ["perm_read", "perm_write"] if scope.restrict_reads else ["perm_write"]
    dimension_fields = {
        dimension.name: forms.CharField(
            label=dimension.name,
            required=False,
            max_length=255,
            help_text=_("empty: any"),
        )
        for dimension in scope.dimensions
    }
    form = type(
        f"{scope.name}PolicyForm",
        (PolicyForm,),
        {
            "scope": scope,
            **dimension_fields,
            "Meta": type("Meta", (), {"model": TokenPolicy, "fields": permissions}),
        },
    )
    formset = type(f"{scope.name}PolicyFormSet", (PolicyFormSet,), {"scope": scope})
    return type(
        f"{scope.name}PolicyInline",
        (PolicyInline,),
        {
            "scope": scope,
            "form": form,
            "formset": formset,
            "fields": [*scope.dimension_names, *permissions, "add"],
            "verbose_name": _("%(scope)s policy") % {"scope": scope.name},
            "verbose_name_plural": _("%(scope)s policies") % {"scope": scope.name},
        },
    )


# -- audit events --------------------------------------------------------------------------

RECENT_EVENTS = 20


class RecentEventsMixin:
    """A read-only field listing the last :data:`RECENT_EVENTS` audit events of ``obj.user``."""

    @admin.display(description=_("recent events"))
    def recent_events(self, obj):
        events = list(AuditEvent.objects.filter(user_id=obj.user_id)[:RECENT_EVENTS])
        if not events:
            return _("No events recorded.")
        headers = format_html_join(
            "",
            "<th>{}</th>",
            [(_("created"),), (_("event"),), (_("token id"),), (_("IP address"),), (_("details"),)],
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    display_for_value(event.created, "-"),
                    event.get_event_display(),
                    event.token_id or "-",
                    event.ip_address or "-",
                    describe(event.details),
                )
                for event in events
            ),
        )
        return format_html(
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", headers, rows
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only; superusers may delete events (retention), nobody adds or changes one."""

    list_display = ["created", "event", "user", "token_id", "ip_address", "details_summary"]
    list_filter = ["event", "created"]
    list_select_related = ["user"]
    fields = readonly_fields = ("created", "event", "user", "token_id", "ip_address", "details")

    def get_search_fields(self, request):
        return [f"user__{get_user_model().get_email_field_name()}"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("details"))
    def details_summary(self, event):
        return Truncator(describe(event.details)).chars(120)


@admin.register(Token)
class TokenAdmin(RecentEventsMixin, admin.ModelAdmin):
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
    list_filter = [
        KindFilter,
        ValidityFilter,
        RiskFilter,
        ("user", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["user"]
    readonly_fields = ["id", "user", "created", "last_used", "mfa_status", "expiry"]
    actions = ["revoke_tokens", "revoke_login_tokens_of_users"]
    # The fallback when the user model has no admin with search fields to autocomplete from.
    raw_id_fields = ["user"]

    def get_autocomplete_fields(self, request):
        try:
            user_admin = self.admin_site.get_model_admin(get_user_model())
        except NotRegistered:
            return []
        return ["user"] if user_admin.get_search_fields(request) else []

    def get_search_fields(self, request):
        user_model = get_user_model()
        return [
            f"user__{user_model.USERNAME_FIELD}",
            f"user__{user_model.get_email_field_name()}",
            "name",
        ]

    def get_urls(self):
        from django.urls import path

        inventory_view = self.admin_site.admin_view(self.inventory_view)
        return [
            path(
                "inventory/",
                inventory_view,
                name=f"{self.opts.app_label}_{self.opts.model_name}_inventory",
            ),
            *super().get_urls(),
        ]

    def inventory_view(self, request):
        """Tokens per user and the risky groups, each linking to the filtered token list."""
        from django.core.exceptions import PermissionDenied

        if not self.has_view_permission(request):
            raise PermissionDenied
        thresholds = inventory.Thresholds()
        counts = inventory.count_risks(inventory.rows(thresholds))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Token inventory"),
            "risks": [
                (risk, label, counts.get(risk, 0)) for risk, label in inventory.RISKS.items()
            ],
            "users": inventory.per_user(),
            "thresholds": thresholds,
        }
        return TemplateResponse(request, "django_stepup/admin/inventory.html", context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = TokenChangeForm if obj is not None else TokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return TokenAddForm.Meta.fields
        return [*self.readonly_fields, *TokenChangeForm.Meta.fields, "recent_events"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "recent_events"] if obj is not None else []

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [policy_inline(scope) for scope in get_scopes().values()]

    def save_model(self, request, obj, form, change):
        if change:
            # Only the form's fields: a full-row save could undo a concurrent promotion.
            obj.save(update_fields=TokenChangeForm.Meta.fields)
            changed = sorted(
                name
                for name in TokenChangeForm.Meta.fields
                if name in form.changed_data
                and form.initial.get(name) != form.cleaned_data.get(name)
            )
            if changed:
                signals.token_changed.send(
                    sender=Token, user=obj.user, token=obj, fields=changed, request=request
                )
            return
        token, secret = token_store.issue_token(
            form.cleaned_data["user"],
            request=request,
            **{field: form.cleaned_data[field] for field in TokenChangeForm.Meta.fields},
        )
        obj.pk = token.pk
        obj.created = token.created
        request._stepup_new_secret = secret

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and form.instance.auto_policy:
            policy_store.ensure_restrictive_defaults(policy_store.lock_token(form.instance))

    def delete_model(self, request, obj):
        revocation.revoke_tokens(Token.objects.filter(pk=obj.pk), reason="admin", request=request)

    def delete_queryset(self, request, queryset):
        revocation.revoke_tokens(queryset, reason="admin", request=request)

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

    @admin.display(description=_("MFA"))
    def mfa_status(self, token):
        if token.mfa is None:
            return _("API token (no MFA)")
        if not token.mfa:
            return _("not promoted")
        return format_html(
            "{} {}",
            _("promoted at"),
            display_for_value(token.mfa_at, self.get_empty_value_display()),
        )

    @admin.display(description=_("expires at"))
    def expiry(self, token):
        if token.expires_at is None:
            return _("never")
        return display_for_value(token.expires_at, self.get_empty_value_display())

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
        count = len(revocation.revoke_tokens(queryset, reason="admin", request=request))
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
        count = len(
            revocation.revoke_tokens(
                Token.objects.login_tokens().filter(user__in=users), reason="admin", request=request
            )
        )
        self.message_user(
            request,
            ngettext("Revoked %d login token.", "Revoked %d login tokens.", count) % count,
            messages.SUCCESS,
        )


@admin.register(MFAState)
class MFAStateAdmin(RecentEventsMixin, admin.ModelAdmin):
    list_display = ["user", "enabled", "failure_count", "last_failure_at", "recovery_codes_left"]
    list_filter = ["enabled"]
    list_select_related = ["user"]
    readonly_fields = (
        "user",
        "enabled",
        "failure_count",
        "last_failure_at",
        "recovery_codes_left",
        "recent_events",
    )
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

    def has_delete_permission(self, request, obj=None):
        """Never through this admin: the state follows the user's factors.

        Deleting a user elsewhere in the admin still deletes their state with them.
        """
        match = request.resolver_match
        if match is None or (match.url_name or "").startswith(
            f"{self.opts.app_label}_{self.opts.model_name}_"
        ):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("recovery codes left"), ordering="_recovery_codes_left")
    def recovery_codes_left(self, state):
        return state._recovery_codes_left

    @admin.action(description=_("Reset the verification lockout"), permissions=["change"])
    def reset_lockout(self, request, queryset):
        states = list(queryset.select_related("user"))
        for state in states:
            otp.reset_verification_lockout(state.user)
        count = len(states)
        self.message_user(
            request,
            ngettext("Reset %d lockout.", "Reset %d lockouts.", count) % count,
            messages.SUCCESS,
        )


class NewFactorForm(forms.ModelForm):
    """The TOTP device form; adding checks ``MAX_FACTORS_PER_USER`` (a form error, no save)."""

    def clean(self):
        # ModelForm.clean() returns cleaned_data; the stub allows None, as for any form.
        cleaned = cast("dict[str, Any]", super().clean())
        user = cleaned.get("user")
        if self.instance._state.adding and user is not None:
            # Locks the user's MFA state until the admin's transaction ends, through the save.
            try:
                otp.check_factor_capacity(user)
            except otp.FactorLimitReached:
                self.add_error(
                    "user",
                    _("This user already has %(count)d factors, the maximum.")
                    % {"count": stepup_settings.MAX_FACTORS_PER_USER},
                )
        return cleaned


class TOTPFactorAdmin(TOTPDeviceAdmin):
    """django-otp's TOTP device admin, with the key shown once: as a QR code after adding.

    Afterwards neither the key nor a QR code is reachable (django-otp's config and
    QR views are not mounted), whatever ``OTP_ADMIN_HIDE_SENSITIVE_DATA`` says. A
    device added here is pending: it becomes active, and enables MFA, on its first
    verification through the API. Adding one goes through :func:`otp.add_factor` (the
    factor cap), deleting one through :func:`otp.remove_factor`.
    """

    form = NewFactorForm
    readonly_fields = ["created_at", "last_used_at", "status"]

    def get_list_display(self, request):
        return self.list_display

    def get_fieldsets(self, request, obj=None):
        shown = {"confirmed": "status"}
        return [
            (
                name,
                {
                    **options,
                    "fields": [shown.get(f, f) for f in options["fields"] if f != "key"],
                },
            )
            for name, options in super().get_fieldsets(request, obj)
            if "qrcode_link" not in options["fields"]
        ]

    @admin.display(description=_("status"))
    def status(self, device):
        """What is saved: a device added here is pending, whatever the model's default says."""
        if device.pk is not None and device.confirmed:
            return _("active (confirmed)")
        return _("pending: becomes active on its first verification through the API")

    def get_urls(self):
        return admin.ModelAdmin.get_urls(self)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            otp.add_factor(obj)

    def response_add(self, request, obj, post_url_continue=None):
        uri = otp.provisioning_uri(obj)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "device": obj,
            "key": otp.factor_secret(obj),
            "qr_svg": mark_safe(otp.qr_svg(uri)),  # noqa: S308 (markup made by qrcode from our URI)
            "title": _("TOTP device created"),
        }
        response = TemplateResponse(request, "django_stepup/admin/totp_qr.html", context)
        patch_cache_control(response, no_store=True)
        return response

    def delete_model(self, request, obj):
        otp.remove_factor(obj, request=request)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            otp.remove_factor(device, request=request)


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, TOTPFactorAdmin)


@admin.register(WebAuthnDevice)
class WebAuthnFactorAdmin(admin.ModelAdmin):
    """WebAuthn factors per user: listed and removable, never added or edited here.

    A credential comes only from a browser ceremony (the API). Removing one goes
    through :func:`otp.remove_factor`, as in the API: a credential change that revokes
    the user's other login tokens.
    """

    list_display = [
        "name",
        "user",
        "confirmed",
        "created_at",
        "last_used_at",
        "sign_count",
        "aaguid",
        "transports_display",
    ]
    list_filter = ["confirmed", "discoverable"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "name",
        "confirmed",
        "discoverable",
        "created_at",
        "last_used_at",
        "sign_count",
        "aaguid",
        "transports_display",
    ]

    def get_search_fields(self, request):
        """The factor's name, or its user's login name: one user's factors at a search."""
        return ["name", f"user__{get_user_model().USERNAME_FIELD}"]

    @admin.display(description=_("transports"))
    def transports_display(self, device):
        return ", ".join(device.transports) or "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        otp.remove_factor(obj, request=request)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            otp.remove_factor(device, request=request)
