"""Record contents per type, parsed by dnspython and written back in canonical presentation
format, as deSEC stores and returns them.

A content is parsed as its type (names must be absolute), checked in wire format, and
printed without line chunking: ``2001:DB8:0:0::1`` is ``2001:db8::1``, the TXT
``"v=DMARC1\\; p=reject"`` is ``"v=DMARC1; p=reject"``, hex digests are lower-case, names
keep the case they were sent in. Like deSEC, TXT contents must be quoted and a string may be
longer than 255 bytes (it is stored as consecutive 255-byte strings); SVCB and HTTPS
parameters print without quotes; IPv4-mapped IPv6 addresses print in hex; the targets of
CNAME, MX, NS and SRV records must be host names as PowerDNS (deSEC's server) accepts them.
"""

import binascii
import ipaddress
import re

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rdtypes.svcbbase
import dns.tokenizer

#: The largest content in wire format deSEC accepts.
MAX_WIRE_LENGTH = 64000
TXT_STRING_LENGTH = 255
HOSTNAME = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+")
CNAME_TARGET = re.compile(r"(?:[A-Za-z0-9_*-]+\.)+")
#: The name each type must hold, the pattern, and whether the root (``.``) is allowed.
TARGETS = {
    dns.rdatatype.CNAME: ("target", CNAME_TARGET, True),
    dns.rdatatype.MX: ("exchange", HOSTNAME, True),
    dns.rdatatype.NS: ("target", HOSTNAME, False),
    dns.rdatatype.SRV: ("target", HOSTNAME, True),
}
UNQUOTED_PARAMS = (
    dns.rdtypes.svcbbase.ALPNParam,
    dns.rdtypes.svcbbase.IPv4HintParam,
    dns.rdtypes.svcbbase.IPv6HintParam,
    dns.rdtypes.svcbbase.MandatoryParam,
    dns.rdtypes.svcbbase.PortParam,
)
ABSOLUTE = 'Hostname must be fully qualified (i.e., end in a dot: "example.com.")'


class RecordError(ValueError):
    """A content that is not a valid record of its type; the message says why."""


def parse(record_type, content):
    """The rdata of ``content`` as ``record_type``, checked in wire format (which also needs
    every name absolute)."""
    rdtype = dns.rdatatype.from_text(record_type)
    try:
        if rdtype == dns.rdatatype.TXT:
            rdata = _txt(content)
        else:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, rdtype, dns.tokenizer.Tokenizer(content), relativize=False
            )
        wire = rdata.to_wire()
        if len(wire) > MAX_WIRE_LENGTH:
            raise RecordError(
                f"Ensure this value has no more than {MAX_WIRE_LENGTH} byte in wire format "
                f"(it has {len(wire)})."
            )
    except RecordError:
        raise
    except dns.name.NeedAbsoluteNameOrOrigin:
        raise RecordError(ABSOLUTE) from None
    except dns.name.NameTooLong:
        raise RecordError("Hostname must be no longer than 255 characters.") from None
    except binascii.Error:
        raise RecordError("Cannot parse hexadecimal or base64 record contents.") from None
    except dns.exception.SyntaxError as error:
        raise RecordError(f"Record content for type {record_type} malformed: {error}") from None
    except (dns.exception.DNSException, ValueError, TypeError) as error:
        raise RecordError(f"Cannot parse record contents: {error}") from None
    _check_target(rdata)
    return rdata


def canonical(record_type, content):
    """``content`` as ``record_type`` in canonical presentation format; RecordError if invalid."""
    return to_text(parse(record_type, content))


def digest(rdata):
    """What makes two records the same record (RFC 4034 canonical form: names lower-cased)."""
    return rdata.to_digestable()


def to_text(rdata):
    if rdata.rdtype in (dns.rdatatype.SVCB, dns.rdatatype.HTTPS):
        return _svcb_text(rdata)
    if rdata.rdtype == dns.rdatatype.AAAA:
        return _ipv6_hex(rdata.address)
    return rdata.to_text(chunksize=0)


def _txt(content):
    strings = []
    for token in dns.tokenizer.Tokenizer(content).get_remaining():
        if not token.is_quoted_string():
            raise RecordError("Data for TXT records must be given using quotation marks.")
        value = token.unescape_to_bytes().value
        strings.extend(
            value[start : start + TXT_STRING_LENGTH]
            for start in range(0, max(len(value), 1), TXT_STRING_LENGTH)
        )
    if not strings:
        raise RecordError("Data for TXT records must be given using quotation marks.")
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)


def _check_target(rdata):
    field, pattern, root_allowed = TARGETS.get(rdata.rdtype, (None, None, None))
    if field is None:
        return
    name = getattr(rdata, field)
    if root_allowed and name == dns.name.root:
        return
    if pattern.fullmatch(name.to_text()) is None:
        raise RecordError(f"Invalid {field}: {name}")


def _svcb_text(rdata):
    params = []
    for key in sorted(rdata.params):
        value = rdata.params[key]
        text = dns.rdtypes.svcbbase.key_to_text(key)
        if value is not None:
            value_text = value.to_text()
            if isinstance(value, UNQUOTED_PARAMS):
                value_text = value_text.removeprefix('"').removesuffix('"')
            text = f"{text}={value_text}"
        params.append(text)
    return " ".join([str(rdata.priority), rdata.target.to_text(), *params])


def _ipv6_hex(address):
    """The address compressed as RFC 5952 says, but IPv4-mapped ones in hex too."""
    groups = [
        format(int(group, 16), "x") for group in ipaddress.IPv6Address(address).exploded.split(":")
    ]
    best_start, best_length, start = None, 1, None
    for index, group in enumerate([*groups, "end"]):
        if group == "0":
            start = index if start is None else start
            continue
        if start is not None and index - start > best_length:
            best_start, best_length = start, index - start
        start = None
    if best_start is None:
        return ":".join(groups)
    head = ":".join(groups[:best_start])
    tail = ":".join(groups[best_start + best_length :])
    return f"{head}::{tail}"
