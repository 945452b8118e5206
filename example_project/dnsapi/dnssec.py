"""Each domain's DNSSEC key, as deSEC shows it in the domain object's ``keys``.

The example does not sign zones, so it keeps no private key: a fresh ECDSAP256SHA256 key
(deSEC's algorithm) is generated for each domain, its public half is stored as the DNSKEY
record content, and the private half is dropped at once. The keys are real, so clients that
compute or check DS records from them get consistent answers; nothing can sign with them.
"""

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.dnskeybase
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = dns.dnssec.Algorithm.ECDSAP256SHA256
#: A combined signing key (ZONE | SEP), as deSEC's keys: 257.
FLAGS = dns.rdtypes.dnskeybase.Flag.ZONE | dns.rdtypes.dnskeybase.Flag.SEP
#: DS digest types deSEC lists for each key: SHA-256 (2) and SHA-384 (4).
DS_DIGESTS = (dns.dnssec.DSDigest.SHA256, dns.dnssec.DSDigest.SHA384)


def new_dnskey():
    """The DNSKEY content (presentation format, one line) of a new key pair's public key."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(private_key.public_key(), ALGORITHM, flags=FLAGS)
    return dnskey.to_text(chunksize=0)


def key_object(domain_name, dnskey_text):
    """One entry of a domain's ``keys``, as deSEC's: DNSKEY, its DS records, flags, keytype."""
    dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, dnskey_text)
    name = dns.name.from_text(domain_name)
    sep = bool(dnskey.flags & dns.rdtypes.dnskeybase.Flag.SEP)
    return {
        "dnskey": dnskey_text,
        "ds": [dns.dnssec.make_ds(name, dnskey, digest).to_text() for digest in DS_DIGESTS]
        if sep
        else [],
        "flags": dnskey.flags,
        "keytype": "csk" if sep else "zsk",
        "managed": True,
    }
