import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import validators as dns
from .models import Domain, RRset

DUPLICATE_RRSET = "Another RRset with the same subdomain and type exists for this domain."


class JSONStringField(serializers.CharField):
    """A JSON string; DRF's CharField would turn 1 or 1.5 into "1" or "1.5"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RecordContentField(JSONStringField):
    """One record's content, in presentation format."""


@extend_schema_field({"type": "string", "enum": list(dns.RECORD_TYPES)})
class RecordTypeField(JSONStringField):
    """An RRset's type: one of the supported types."""


@extend_schema_field(
    {
        "type": "integer",
        "minimum": dns.MIN_TTL,
        "maximum": dns.MAX_TTL,
        "description": "Seconds; at least the domain's minimum_ttl.",
    }
)
class TTLField(serializers.IntegerField):
    """An RRset's TTL: at most MAX_TTL here, at least the domain's minimum in validate_ttl."""


class DomainSerializer(serializers.ModelSerializer):
    """deSEC's domain object. Its records are published as soon as they are written, so
    ``published`` is ``touched``. ``keys`` is left out of lists, as deSEC leaves it out."""

    # Declared: the model's unique validator would reveal whose a name is; validate_name
    # answers the same for every taken name.
    name = JSONStringField(
        max_length=dns.MAX_NAME_LENGTH,
        validators=[dns.validate_domain_name],
        trim_whitespace=False,
    )
    published = serializers.DateTimeField(source="touched", read_only=True)
    keys = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = Domain
        fields = ["name", "created", "published", "touched", "minimum_ttl", "keys"]
        read_only_fields = ["created", "touched", "minimum_ttl"]

    def validate_name(self, value):
        owner = self.context["request"].user
        if self.instance is None and Domain.objects.conflicting(value, owner).exists():
            raise serializers.ValidationError("This domain name is unavailable.")
        return value

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.parent, serializers.ListSerializer):
            fields.pop("keys", None)
        return fields

    def create(self, validated_data):
        now = timezone.now()
        try:
            with transaction.atomic():
                domain = super().create({**validated_data, "created": now, "touched": now})
        except IntegrityError:
            raise serializers.ValidationError(
                {"name": ["This domain name is unavailable."]}
            ) from None
        domain.create_apex_ns(now)
        return domain


class DomainListSerializer(DomainSerializer):
    """A domain as lists show it: without ``keys`` (for the schema; the list's serializer
    drops the field itself)."""

    keys = None

    class Meta(DomainSerializer.Meta):
        fields = [name for name in DomainSerializer.Meta.fields if name != "keys"]


class RecordsField(serializers.ListField):
    child = RecordContentField(trim_whitespace=False, allow_blank=False)


_FIELD_PROTOTYPES = {}


class RRsetSerializer(serializers.ModelSerializer):
    domain = serializers.SlugRelatedField(slug_field="name", read_only=True)
    name = serializers.CharField(read_only=True)
    subname = JSONStringField(
        allow_blank=True,
        required=False,
        default="",
        max_length=178,
        trim_whitespace=False,
        validators=[dns.validate_subname],
    )
    type = RecordTypeField(max_length=10, validators=[dns.validate_type])
    records = RecordsField()
    ttl = TTLField(max_value=dns.MAX_TTL)

    class Meta:
        model = RRset
        fields = ["domain", "subname", "name", "type", "records", "ttl", "created", "touched"]
        read_only_fields = ["created", "touched"]
        validators = []

    def get_fields(self):
        # ModelSerializer introspects the model for every serializer; a bulk request makes
        # one per element, so the fields it builds are made once per class and copied.
        prototype = _FIELD_PROTOTYPES.get(type(self))
        if prototype is None:
            prototype = _FIELD_PROTOTYPES[type(self)] = super().get_fields()
        fields = copy.deepcopy(prototype)
        if self.instance is not None:
            # An RRset's identity is its URL: subname and type can't change.
            fields["subname"].read_only = True
            fields["type"].read_only = True
        return fields

    def to_representation(self, instance):
        """The RRset object, built directly: a bulk response holds up to 1000 of them, and
        DRF's per-field path is most of its cost."""
        return {
            "domain": instance.domain.name,
            "subname": instance.subname,
            "name": instance.name,
            "type": instance.type,
            "records": instance.records,
            "ttl": instance.ttl,
            "created": self.timestamp(instance.created),
            "touched": self.timestamp(instance.touched),
        }

    def timestamp(self, value):
        """``value`` as the declared field shows it; the RRsets of one bulk request share
        their timestamps, so each is formatted once per response."""
        shown = self.__dict__.setdefault("_timestamps", {})
        if value not in shown:
            shown[value] = self.fields["touched"].to_representation(value)
        return shown[value]

    @property
    def rrset_domain(self):
        """The RRset's domain: the instance's, the one in the context (bulk), or the view's."""
        if self.instance is not None:
            return self.instance.domain
        if "domain" in self.context:
            return self.context["domain"]
        return self.context["view"].get_domain()

    def validate_ttl(self, value):
        minimum = self.rrset_domain.minimum_ttl
        if value < minimum:
            raise serializers.ValidationError(
                f"Ensure this value is greater than or equal to {minimum}."
            )
        return value

    def validate_records(self, value):
        if self.instance is None and not value:
            raise serializers.ValidationError("A new RRset needs at least one record.")
        return value

    def validate(self, attrs):
        """Records are stored in canonical presentation format (see :mod:`dnsapi.records`)."""
        record_type = attrs.get("type", getattr(self.instance, "type", None))
        records = attrs.get("records")
        if records and record_type is not None:
            subname = attrs.get("subname", getattr(self.instance, "subname", ""))
            name = RRset.construct_name(subname, self.rrset_domain.name)
            try:
                attrs["records"] = dns.validate_records(records, record_type, name)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"records": error.messages}) from None
        return attrs


class BulkRRsetSerializer(RRsetSerializer):
    """One element of a bulk request on ``rrsets/``. Never bound to an instance: the element's
    subname and type name the RRset. ``"records": []`` means delete (PUT, PATCH), so only an
    element that must create (POST) needs a record; the view says so with ``creating``."""

    def validate_records(self, value):
        if self.context.get("creating") and not value:
            raise serializers.ValidationError("A new RRset needs at least one record.")
        return value


class BulkElementValidator:
    """Validates the elements of one bulk request with one serializer per kind (partial or
    not), instead of building a serializer and its fields for each of up to 1000 elements.
    ``validator(item, partial)`` is ``(validated_data, {})`` or ``(None, errors)``, the same
    as ``is_valid()`` on a new ``BulkRRsetSerializer``."""

    def __init__(self, domain, creating):
        self.context = {"creating": creating, "domain": domain}
        self.serializers = {}

    def __call__(self, item, partial):
        serializer = self.serializers.get(partial)
        if serializer is None:
            serializer = BulkRRsetSerializer(partial=partial, context=self.context)
            self.serializers[partial] = serializer
        try:
            return dict(serializer.run_validation(item)), {}
        except serializers.ValidationError as error:
            return None, error.detail
