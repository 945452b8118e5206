from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from django_stepup.contrib.spectacular import ErrorSerializer
from django_stepup.permissions import (
    HasTokenPermission,
    MFARequiredIfEnabled,
    PhishingResistantMFAIfEnrolled,
    PolicyScopedMixin,
    check_policy,
)
from django_stepup.policies import WRITE, get_scope
from django_stepup.policy_store import grant_auto_policy

from . import bulk
from . import validators as dns
from .models import Domain, RRset
from .pagination import LinkHeaderCursorPagination
from .serializers import (
    DUPLICATE_RRSET,
    BulkRRsetSerializer,
    DomainListSerializer,
    DomainSerializer,
    RRsetSerializer,
)

SCOPE = "rrsets"
#: How list filters and URL parts are checked: no query runs with a value that can't be stored.
URL_VALIDATORS = {
    "name": dns.validate_domain_name,
    "subname": dns.validate_subname,
    "type": dns.validate_type,
}


def invalid_value_error(field, value):
    """The validation message for ``value`` as ``field``, or None if it is valid."""
    try:
        URL_VALIDATORS[field](value)
    except DjangoValidationError as error:
        return error.messages
    return None


def url_value(view, field, default=None):
    """A part of the URL; a value that can't name anything is a 404, like a missing object."""
    value = view.kwargs.get(field, default)
    if invalid_value_error(field, value) is not None:
        raise Http404
    return value


@extend_schema_view(list=extend_schema(responses=DomainListSerializer(many=True)))
class DomainViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """``domains/`` and ``domains/{name}/``. Restricted tokens may use it: domains are
    what their policies point at."""

    serializer_class = DomainSerializer
    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    flag_for_action = {"create": "create_domain", "destroy": "delete_domain"}

    def get_permissions(self):
        classes = [IsAuthenticated, MFARequiredIfEnabled]
        flag = self.flag_for_action.get(self.action)
        if flag is not None:
            classes.append(HasTokenPermission.for_flag(flag))
        if self.action == "destroy":
            # Deleting a domain takes its zone offline at once and can't be undone: the
            # one action where a phished TOTP code does the most harm. Users with a
            # WebAuthn factor must have promoted their login token with it; TOTP-only
            # users and API tokens (delete_domain flag) are unaffected.
            classes.append(PhishingResistantMFAIfEnrolled)
        return [permission() for permission in classes]

    def get_queryset(self):
        queryset = Domain.objects.filter(owner=self.request.user)
        owns_qname = self.request.query_params.get("owns_qname")
        if self.action == "list" and owns_qname is not None:
            queryset = queryset.responsible_for(owns_qname)
        return queryset

    def get_object(self):
        url_value(self, "name")
        return super().get_object()

    @transaction.atomic
    def perform_create(self, serializer):
        domain = serializer.save(owner=self.request.user)
        grant_auto_policy(self.request.auth, get_scope(SCOPE), domain)

    def perform_destroy(self, domain):
        # A restricted token may delete a domain only if it may write every RRset in it.
        rrsets = list(domain.rrsets.all())
        for rrset in rrsets:
            check_policy(self.request, SCOPE, rrset, WRITE)
        if not rrsets:
            check_policy(
                self.request, SCOPE, {"domain": domain.pk, "subname": None, "type": None}, WRITE
            )
        domain.delete()


BULK_BODY = BulkRRsetSerializer(many=True)
LINK = OpenApiParameter(
    "Link",
    str,
    OpenApiParameter.HEADER,
    response=[200, 400],
    description="first, prev and next pages (RFC 8288), when the list is paginated.",
)


@extend_schema_view(
    list=extend_schema(
        responses={
            200: RRsetSerializer(many=True),
            400: OpenApiResponse(
                ErrorSerializer,
                description="Pagination required: more RRsets than a page; follow the Link "
                "header's first page.",
            ),
        },
        parameters=[LINK],
    ),
    update=extend_schema(
        responses={200: RRsetSerializer, 204: OpenApiResponse(description="No records: deleted.")}
    ),
    partial_update=extend_schema(
        responses={200: RRsetSerializer, 204: OpenApiResponse(description="No records: deleted.")}
    ),
)
class RRsetViewSet(PolicyScopedMixin, viewsets.ModelViewSet):
    """``domains/{name}/rrsets/`` and one RRset by subname and type.

    The mixin checks the token's policies on every RRset it reads or writes through
    get_object() and the serializer; the bulk writes and the delete of a missing RRset
    check the RRsets they name with check_policy_object().
    """

    serializer_class = RRsetSerializer
    permission_classes = [IsAuthenticated, MFARequiredIfEnabled]
    pagination_class = LinkHeaderCursorPagination
    policy_scope = SCOPE

    def get_domain(self):
        if not hasattr(self, "_domain"):
            self._domain = get_object_or_404(
                Domain, owner=self.request.user, name=url_value(self, "name")
            )
        return self._domain

    def get_queryset(self):
        queryset = RRset.objects.filter(domain=self.get_domain()).select_related("domain")
        if self.action == "list":
            errors = {}
            for field in ("subname", "type"):
                value = self.request.query_params.get(field)
                if value is None:
                    continue
                error = invalid_value_error(field, value)
                if error is not None:
                    errors[field] = error
                else:
                    queryset = queryset.filter(**{field: value})
            if errors:
                raise ValidationError(errors)
        return queryset

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        rrset = get_object_or_404(
            queryset, subname=url_value(self, "subname", ""), type=url_value(self, "type")
        )
        self.check_object_permissions(self.request, rrset)
        return rrset

    def create(self, request, *args, **kwargs):
        if isinstance(request.data, list):
            return self.bulk_write(request, status.HTTP_201_CREATED)
        self.get_domain()  # an unknown domain is a 404 whatever the body
        return super().create(request, *args, **kwargs)

    @extend_schema(
        operation_id="domains_rrsets_bulk_update",
        summary="Create or replace the RRsets listed (all or nothing)",
        request=BULK_BODY,
        responses={200: RRsetSerializer(many=True)},
    )
    def bulk_update(self, request, *args, **kwargs):
        """PUT on ``rrsets/``: create or replace the RRsets listed (deSEC's bulk PUT)."""
        return self.bulk_write(request, status.HTTP_200_OK)

    @extend_schema(
        operation_id="domains_rrsets_bulk_partial_update",
        summary="Create or change the RRsets listed (all or nothing)",
        request=BulkRRsetSerializer(many=True, partial=True),
        responses={200: RRsetSerializer(many=True)},
    )
    def bulk_partial_update(self, request, *args, **kwargs):
        """PATCH on ``rrsets/``: create or change the RRsets listed (deSEC's bulk PATCH)."""
        return self.bulk_write(request, status.HTTP_200_OK)

    @transaction.atomic
    def bulk_write(self, request, success_status):
        """All or nothing; see :mod:`dnsapi.bulk`. The domain row is locked, so bulk
        requests on one domain run one after another."""
        self._domain = get_object_or_404(
            Domain.objects.select_for_update(),
            owner=request.user,
            name=url_value(self, "name"),
        )
        elements = bulk.validate_elements(self._domain, request.data, request.method)
        bulk.check_policies(self, self._domain, elements)
        rrsets = bulk.write_elements(self._domain, elements)
        return Response(self.get_serializer(rrsets, many=True).data, status=success_status)

    @transaction.atomic
    def perform_create(self, serializer):
        domain = self.get_domain()
        now = timezone.now()
        try:
            with transaction.atomic():
                serializer.save(domain=domain, created=now, touched=now)
        except IntegrityError:
            raise ValidationError({"non_field_errors": [DUPLICATE_RRSET]}) from None
        Domain.objects.filter(pk=domain.pk).update(touched=now)

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        rrset = self.get_object()
        serializer = self.get_serializer(rrset, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data.get("records") == []:
            # deSEC semantics: an RRset without records is deleted.
            self.perform_destroy(rrset)
            return Response(status=status.HTTP_204_NO_CONTENT)
        now = timezone.now()
        serializer.save(touched=now)
        Domain.objects.filter(pk=rrset.domain_id).update(touched=now)
        return Response(serializer.data)

    def destroy(self, request, *args, **kwargs):
        # deSEC: deleting an RRset that does not exist succeeds too (but not on another
        # user's domain, and not where the token may not write).
        try:
            rrset = self.get_object()
        except Http404:
            missing = RRset(
                domain=self.get_domain(),
                subname=url_value(self, "subname", ""),
                type=url_value(self, "type"),
            )
            self.check_policy_object(missing, WRITE)
            return Response(status=status.HTTP_204_NO_CONTENT)
        self.perform_destroy(rrset)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, rrset):
        rrset.delete()
        Domain.objects.filter(pk=rrset.domain_id).update(touched=timezone.now())
