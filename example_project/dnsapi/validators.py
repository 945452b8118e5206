"""Validation of DNS names, types, TTLs and record contents, as a DNS user expects it."""

import re

from django.core.exceptions import ValidationError

from . import records as dns_records

LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN_NAME = re.compile(rf"(?:{LABEL}\.)+{LABEL}")
#: A name deSEC's ``owns_qname`` accepts: labels of letters, digits, ``-`` and ``_``, the last
#: without ``_``.
QNAME = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*[a-z0-9-]{1,63}")
SUBNAME_LABEL = re.compile(r"\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
MAX_NAME_LENGTH = 253
#: Bounds of any stored TTL; an RRset's TTL is at least its domain's ``minimum_ttl`` too.
MIN_TTL = 1
MAX_TTL = 86400
MAX_RECORDS = 1000
#: Long enough for a 4096-bit DKIM key in one TXT content.
MAX_RECORD_LENGTH = 4096
RECORD_TYPES = (
    "A",
    "AAAA",
    "CAA",
    "CNAME",
    "DS",
    "HTTPS",
    "MX",
    "NS",
    "PTR",
    "SRV",
    "SSHFP",
    "SVCB",
    "TLSA",
    "TXT",
)


def validate_domain_name(value):
    if value != value.lower():
        raise ValidationError("Domain names must be lower-case.")
    if len(value) > MAX_NAME_LENGTH or not DOMAIN_NAME.fullmatch(value):
        raise ValidationError(
            "Enter a domain name such as example.com: labels of letters, digits and hyphens."
        )


def is_qname(value):
    """Whether ``value`` (lower-case) can be a query name a domain is responsible for."""
    return len(value) <= MAX_NAME_LENGTH and QNAME.fullmatch(value) is not None


def validate_subname(value):
    if value == "":
        return
    if value != value.lower():
        raise ValidationError("Subnames must be lower-case.")
    labels = value.split(".")
    if any(not SUBNAME_LABEL.fullmatch(label) for label in labels):
        raise ValidationError(
            "Enter a subname of dot-separated labels (letters, digits, hyphens, underscores)."
        )
    if "*" in labels[1:]:
        raise ValidationError("A wildcard may only be the first label.")


def validate_type(value):
    if value not in RECORD_TYPES:
        raise ValidationError(
            f"Unknown or unsupported record type; use one of {', '.join(RECORD_TYPES)} (upper-case)."
        )


def validate_ttl(value):
    if not MIN_TTL <= value <= MAX_TTL:
        raise ValidationError(f"TTL must be between {MIN_TTL} and {MAX_TTL} seconds.")


def validate_records(records, record_type, name):
    """``records`` of ``record_type`` at ``name`` in canonical presentation format (see
    :mod:`dnsapi.records`), in the order given; ValidationError naming each bad record."""
    if len(records) > MAX_RECORDS:
        raise ValidationError(f"At most {MAX_RECORDS} records per RRset.")
    if record_type == "CNAME" and len(records) > 1:
        raise ValidationError("A CNAME RRset holds exactly one record.")
    errors = []
    parsed = []
    for record in records:
        if not record or len(record) > MAX_RECORD_LENGTH or "\x00" in record:
            errors.append(
                f"Each record is a non-empty string of at most {MAX_RECORD_LENGTH} characters."
            )
            continue
        try:
            parsed.append(dns_records.parse(record_type, record))
        except dns_records.RecordError as error:
            errors.append(f"Record content of {record_type} {name} invalid: {record!r}: {error}")
    if errors:
        raise ValidationError(errors)
    if len(parsed) > 1 and len({dns_records.digest(rdata) for rdata in parsed}) != len(parsed):
        raise ValidationError("Records must be unique.")
    return [dns_records.to_text(rdata) for rdata in parsed]
