"""Bulk writes on ``domains/{name}/rrsets/``: deSEC's POST, PUT and PATCH with a JSON list.

deSEC's documented rules ("Bulk Operations" in desec.readthedocs.io): each element names one
RRset by ``subname`` (default: the apex) and ``type``; POST only creates; PUT and PATCH create
or change the RRsets listed and leave every other RRset of the domain alone; ``"records": []``
deletes (PUT, PATCH), and is a no-op for an RRset that does not exist. PUT needs every field
of every element, PATCH only ``type`` (and ``ttl`` and ``records`` to create).

The request is all or nothing: invalid elements are a 400 whose body lists one error object
per element in request order (``{}`` for a valid one); a policy refusing any element is a 403;
either way nothing is written.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from django_stepup.policies import WRITE

from . import validators as dns
from .models import Domain, RRset
from .rrset_updates import update_rrsets
from .serializers import DUPLICATE_RRSET, BulkElementValidator

NOT_NULL = "This field may not be null."
CREATE = "POST"
REPLACE = "PUT"
MODIFY = "PATCH"

#: Elements one bulk request may carry: it runs in one transaction holding a row lock.
MAX_ELEMENTS = 1000


@dataclass
class BulkElement:
    """A validated element: the RRset it names, what it says, and the RRset stored now."""

    subname: str
    type: str
    data: dict
    existing: RRset | None

    @property
    def deletes(self):
        return self.data.get("records") == []


def element_key(item):
    """``((subname, type), {})`` if the raw element names an RRset validly, else
    ``(None, errors)``.

    The name is checked as sent, before the serializer could coerce it (``5`` to ``"5"``,
    ``" A"`` to ``"A"``): only names that need no coercion reach the query for existing
    RRsets, and an element is always identified by exactly what it says.
    """
    errors = {}
    values = {}
    for field, default, validate in (
        ("subname", "", dns.validate_subname),
        ("type", None, dns.validate_type),
    ):
        value = item.get(field, default)
        if value is None:
            errors[field] = ["This field is required." if field not in item else NOT_NULL]
        elif not isinstance(value, str):
            errors[field] = [f"Expected a string, but got {type(value).__name__}."]
        else:
            try:
                validate(value)
            except DjangoValidationError as error:
                errors[field] = error.messages
        values[field] = value
    if errors:
        return None, errors
    return (values["subname"], values["type"]), {}


def existing_rrsets(domain, keys):
    """The domain's RRsets named by ``keys``, by key, locked for the request: one query."""
    if not keys:
        return {}
    rrsets = RRset.objects.select_for_update().filter(
        domain=domain,
        subname__in={subname for subname, _ in keys},
        type__in={record_type for _, record_type in keys},
    )
    found = {}
    for rrset in rrsets:
        if (rrset.subname, rrset.type) in keys:
            rrset.domain = domain
            found[(rrset.subname, rrset.type)] = rrset
    return found


def validate_elements(domain, items, method):
    """The elements of a bulk request, validated; ``ValidationError`` (400) otherwise."""
    if not isinstance(items, list):
        raise ValidationError(
            {"non_field_errors": [f"Expected a list of items but got {type(items).__name__}."]}
        )
    if len(items) > MAX_ELEMENTS:
        raise ValidationError(
            {"non_field_errors": [f"At most {MAX_ELEMENTS} RRsets per bulk request."]}
        )
    checked = [element_key(item) if isinstance(item, dict) else (None, {}) for item in items]
    keys = [key for key, _ in checked]
    positions = defaultdict(list)
    for index, key in enumerate(keys):
        if key is not None:
            positions[key].append(index)
    existing = existing_rrsets(domain, positions.keys())

    errors = [{} for _ in items]
    elements = []
    validate = BulkElementValidator(domain, creating=method == CREATE)
    for index, (item, key) in enumerate(zip(items, keys, strict=True)):
        if not isinstance(item, dict):
            errors[index] = {
                "non_field_errors": [f"Expected a dictionary, but got {type(item).__name__}."]
            }
            continue
        if key is not None and len(positions[key]) > 1:
            others = ", ".join(str(other) for other in positions[key] if other != index)
            errors[index] = {
                "non_field_errors": [
                    f"Same subname and type as in position(s) {others}, but must be unique."
                ]
            }
            continue
        rrset = existing.get(key)
        # PATCH changes only what an element gives, unless the element creates an RRset.
        partial = (
            method == MODIFY
            and key is not None
            and (rrset is not None or item.get("records") == [])
        )
        data, element_errors = validate(item, partial)
        key_errors = checked[index][1]
        if element_errors or key_errors:
            errors[index] = {**element_errors, **key_errors}
        elif method == CREATE and rrset is not None:
            errors[index] = {"non_field_errors": [DUPLICATE_RRSET]}
        else:
            elements.append(BulkElement(*key, data, rrset))
    if any(errors):
        raise ValidationError(errors)
    return elements


def check_policies(view, domain, elements):
    """Every element needs write permission on the RRset it names (``view`` is the
    policy-scoped RRset view); the token's policies are loaded once."""
    for element in elements:
        named = RRset(domain=domain, subname=element.subname, type=element.type)
        view.check_policy_object(named, WRITE)


def write_elements(domain, elements):
    """Apply validated, permitted elements with a fixed number of queries.

    Returns the RRsets created or changed, in request order (deleted ones are left out).
    """
    now = timezone.now()
    deleted = []
    created = []
    changed = []
    written = []
    for element in elements:
        rrset = element.existing
        if element.deletes:
            if rrset is not None:
                deleted.append(rrset.pk)
            continue
        if rrset is None:
            rrset = RRset(
                domain=domain,
                subname=element.subname,
                type=element.type,
                ttl=element.data["ttl"],
                records=element.data["records"],
                created=now,
                touched=now,
            )
            created.append(rrset)
        else:
            rrset.ttl = element.data.get("ttl", rrset.ttl)
            rrset.records = element.data.get("records", rrset.records)
            rrset.touched = now
            changed.append(rrset)
        written.append(rrset)
    if deleted:
        RRset.objects.filter(pk__in=deleted).delete()
    if created:
        try:
            with transaction.atomic():
                RRset.objects.bulk_create(created)
        except IntegrityError:
            # Created meanwhile by a request that does not lock the domain (a single POST).
            raise ValidationError({"non_field_errors": [DUPLICATE_RRSET]}) from None
    if changed:
        update_rrsets(changed)
    if elements:
        Domain.objects.filter(pk=domain.pk).update(touched=now)
    return written
