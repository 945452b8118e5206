import copy

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_stepup.authentication import StepUpTokenAuthentication
from django_stepup.filters import TokenPolicyFilter
from django_stepup.permissions import (
    HasTokenPermission,
    IsAPIToken,
    IsLoginToken,
    MFARequiredIfEnabled,
    PhishingResistantMFA,
    PhishingResistantMFAIfEnrolled,
    PolicyScopedMixin,
    RecentMFA,
    TokenPolicyPermission,
    check_policy,
)
from django_stepup.policies import get_scope
from django_stepup.policy_store import grant_auto_policy
from tests.testapp.models import Record, Zone


class WhoAmIView(APIView):
    authentication_classes = [StepUpTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "WhoAmI", {"email": serializers.EmailField(), "token": serializers.UUIDField()}
        )
    )
    def get(self, request):
        return Response({"email": request.user.email, "token": str(request.auth.id)})


class GuardedView(APIView):
    """Answers 200 when its permission classes let the request through."""

    @extend_schema(responses=inline_serializer("Ok", {"ok": serializers.BooleanField()}))
    def get(self, request):
        return Response({"ok": True})


class MFAView(GuardedView):
    permission_classes = [IsAuthenticated, MFARequiredIfEnabled]


class PhishingResistantView(GuardedView):
    permission_classes = [IsAuthenticated, PhishingResistantMFA]


class PhishingResistantRecentView(GuardedView):
    permission_classes = [IsAuthenticated, PhishingResistantMFA.with_max_age(300)]


class PhishingResistantIfEnrolledView(GuardedView):
    permission_classes = [IsAuthenticated, MFARequiredIfEnabled, PhishingResistantMFAIfEnrolled]


class RecentMFAView(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA.with_max_age(300)]


class RecentMFAZeroView(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA.with_max_age(0)]


class RecentMFAZeroAttributeView(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA]
    recent_mfa_max_age = 0


class RecentMFADefaultView(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA]


class RecentMFAViewAttribute(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA]
    recent_mfa_max_age = 60


class LoginTokenView(GuardedView):
    permission_classes = [IsLoginToken]


class APITokenView(GuardedView):
    permission_classes = [IsAPIToken]


class CreateDomainFlagView(GuardedView):
    permission_classes = [IsAuthenticated, HasTokenPermission.for_flag("create_domain")]


class AccountView(GuardedView):
    """An account-level view: it declares no policy scope, so restricted tokens stay out."""

    permission_classes = [IsAuthenticated, TokenPolicyPermission]


class RecordSerializer(serializers.ModelSerializer):
    zone = serializers.SlugRelatedField(slug_field="name", queryset=Zone.objects.none())

    class Meta:
        model = Record
        fields = ["id", "zone", "subname", "type"]

    def get_fields(self):
        fields = super().get_fields()
        fields["zone"].queryset = Zone.objects.filter(owner=self.context["request"].user.pk)
        return fields


class RecordViewSet(PolicyScopedMixin, viewsets.ModelViewSet):
    """Policy-governed like the example's RRsets (reads free, writes by policy), by the
    mixin alone: no policy permission class, filter backend or check of its own."""

    serializer_class = RecordSerializer
    permission_classes = [IsAuthenticated]
    policy_scope = "rrsets"

    def get_queryset(self):
        return (
            Record.objects.filter(zone__owner=self.request.user.pk)
            .select_related("zone")
            .order_by("id")
        )


class HostOverridesRecordViewSet(RecordViewSet):
    """A host that overrides what the old pattern relied on: its own permissions without
    the policy class, no filter backends, saves that check nothing and upper-case the type."""

    filter_backends = []

    def get_permissions(self):
        return [IsAuthenticated()]

    def perform_create(self, serializer):
        serializer.save(type=serializer.validated_data["type"].upper())

    def perform_update(self, serializer):
        instance = serializer.instance
        serializer.save(type=serializer.validated_data.get("type", instance.type).upper())


class HostOverridesPrivateRecordViewSet(HostOverridesRecordViewSet):
    """The same overrides on a scope restricting reads: lists are still narrowed."""

    policy_scope = "private_records"


class ListRecordViewSet(RecordViewSet):
    """Writes lists of records through ``many=True`` serializers."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=201)

    class TypeSerializer(serializers.ModelSerializer):
        class Meta:
            model = Record
            fields = ["type"]

    def get_serializer_class(self):
        return self.TypeSerializer if self.action == "retype" else super().get_serializer_class()

    @action(detail=False, methods=["patch"])
    def retype(self, request):
        records = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer(records, data=request.data, many=True, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class LabelRecordSerializer(RecordSerializer):
    """Takes the subname as ``label``, which only create() turns into the model field."""

    label = serializers.CharField(write_only=True, allow_blank=True)

    class Meta(RecordSerializer.Meta):
        fields = ["id", "zone", "label", "subname", "type"]
        read_only_fields = ["subname"]

    def create(self, validated_data):
        validated_data["subname"] = validated_data.pop("label")
        return super().create(validated_data)


class LabelRecordViewSet(RecordViewSet):
    """A dimension value the object to store does not carry: get_policy_values reads it."""

    serializer_class = LabelRecordSerializer

    def get_policy_values(self, obj, data=None):
        values = super().get_policy_values(obj, data)
        if data is not None and "label" in data:
            values["subname"] = data["label"]
        return values


class ManualRecordViewSet(viewsets.ModelViewSet):
    """The hand-built pattern: TokenPolicyPermission, TokenPolicyFilter and check_policy on
    the old and the new values."""

    serializer_class = RecordSerializer
    permission_classes = [IsAuthenticated, TokenPolicyPermission]
    filter_backends = [TokenPolicyFilter]
    policy_scope = "rrsets"

    def get_queryset(self):
        return Record.objects.filter(zone__owner=self.request.user.pk).order_by("id")

    def perform_create(self, serializer):
        check_policy(self.request, self.policy_scope, Record(**serializer.validated_data))
        serializer.save()

    def perform_update(self, serializer):
        # The old values passed TokenPolicyPermission; check what the update would store.
        moved = copy.copy(serializer.instance)
        for name, value in serializer.validated_data.items():
            setattr(moved, name, value)
        check_policy(self.request, self.policy_scope, moved)
        serializer.save()


class WritableRecordViewSet(RecordViewSet):
    """Lists only the records the token may write."""

    policy_filter_action = "write"


class PrivateRecordViewSet(RecordViewSet):
    """A scope that restricts reads: lists and details show only readable records."""

    policy_scope = "private_records"


class ZoneViewSet(viewsets.ModelViewSet):
    """Zones, for deleting them (their policies go too) and auto_policy grants on create."""

    queryset = Zone.objects.none()
    permission_classes = [IsAuthenticated]
    lookup_field = "name"

    class serializer_class(serializers.ModelSerializer):
        class Meta:
            model = Zone
            fields = ["id", "name"]

    def get_queryset(self):
        return Zone.objects.filter(owner=self.request.user.pk)

    def perform_create(self, serializer):
        zone = serializer.save(owner=self.request.user)
        grant_auto_policy(self.request.auth, get_scope("rrsets"), zone)
