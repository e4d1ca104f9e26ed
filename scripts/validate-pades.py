#!/usr/bin/env python3
"""Validates every signature in a PDF with pyHanko, an independent validator, and prints one JSON object.

Usage: validate-pades.py FILE.pdf TRUSTED-CERT.pem

For each signature: pyHanko's verdict (intact, valid, trusted, bottom line), what the signature covers and what
changed after it, and the PAdES baseline B-B requirements checked on the CMS itself: SubFilter
ETSI.CAdES.detached, content-type, message-digest and signing-certificate-v2 signed attributes whose certificate
hash matches the signer's, and no signing-time attribute (PAdES puts the time in /M).
"""
import hashlib
import json
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def pades_bb(sig):
    problems = []
    if sig.sig_object.get("/SubFilter") != "/ETSI.CAdES.detached":
        problems.append("SubFilter is not /ETSI.CAdES.detached")
    if "/M" not in sig.sig_object:
        problems.append("no /M signing time in the signature dictionary")
    attrs = {a["type"].native: a for a in sig.signer_info["signed_attrs"]}
    for needed in ("content_type", "message_digest", "signing_certificate_v2"):
        if needed not in attrs:
            problems.append(f"no {needed} signed attribute")
    if "signing_time" in attrs:
        problems.append("a signing-time attribute is present (PAdES B-B forbids it)")
    if "signing_certificate_v2" in attrs:
        ess = attrs["signing_certificate_v2"]["values"][0]["certs"][0]
        if ess["cert_hash"].native != hashlib.sha256(sig.signer_cert.dump()).digest():
            problems.append("signing-certificate-v2 does not name the signer's certificate")
    return problems


def main():
    pdf_path, cert_path = sys.argv[1], sys.argv[2]
    root = load_cert_from_pemder(cert_path)
    context = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
    out = {"signatures": []}
    with open(pdf_path, "rb") as f:
        reader = PdfFileReader(f, strict=True)
        for sig in reader.embedded_signatures:
            status = validate_pdf_signature(sig, context)
            out["signatures"].append(
                {
                    "field": sig.field_name,
                    "intact": status.intact,
                    "valid": status.valid,
                    "trusted": status.trusted,
                    "bottom_line": status.bottom_line,
                    "coverage": status.coverage.name if status.coverage else None,
                    "modification_level": status.modification_level.name if status.modification_level else None,
                    "signer": status.signing_cert.subject.human_friendly,
                    "pades_bb_problems": pades_bb(sig),
                    "details": status.pretty_print_details(),
                }
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
