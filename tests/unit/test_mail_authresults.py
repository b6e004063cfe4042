"""Authentication-Results (RFC 8601): parsing what MTAs really write, and whose verdict counts."""

import pytest

from portal.mail.authresults import AuthenticationResults, Result, parse, sender_verified

OURS = "mx.portal.local"
POSTFIX_OPENDKIM = (
    "mx.portal.local;\r\n\tdkim=pass (2048-bit key; unprotected) header.d=example.com "
    "header.i=@example.com header.a=rsa-sha256 header.s=mail header.b=AbCdEf12"
)
OPENDMARC = "mx.portal.local; dmarc=pass (p=reject dis=none) header.from=example.com"
RSPAMD = (
    "mx.portal.local;\r\n\tdkim=pass header.d=example.com header.s=dkim header.b=Xy;\r\n"
    '\tspf=pass (mx.portal.local: domain of "bounce@example.com" designates 192.0.2.1 as '
    'permitted sender) smtp.mailfrom="bounce@example.com";\r\n\tdmarc=pass (policy=reject) '
    "header.from=example.com"
)
GMAIL = (
    "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=Zz;\r\n"
    "       spf=pass (google.com: domain of a@example.com designates 192.0.2.1 as permitted "
    "sender) smtp.mailfrom=a@example.com;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) "
    "header.from=example.com"
)


def test_comments_quoted_values_versions_and_several_results():
    found = parse(
        '"mx.portal.local" 1 (our (nested) MTA); dkim/1 = pass reason="good; sig" '
        "header . d=Example.COM (signed); spf=softfail smtp.mailfrom=@example.com; "
        "dmarc=pass header.from=example.com"
    )
    assert found == AuthenticationResults(
        OURS,
        [
            Result("dkim", "pass", {"reason": "good; sig", "header.d": "Example.COM"}),
            Result("spf", "softfail", {"smtp.mailfrom": "@example.com"}),
            Result("dmarc", "pass", {"header.from": "example.com"}),
        ],
    )


def test_real_headers_parse():
    assert parse(RSPAMD).results[1] == Result(
        "spf", "pass", {"smtp.mailfrom": "bounce@example.com"}
    )
    assert [r.method for r in parse(GMAIL).results] == ["dkim", "spf", "dmarc"]
    assert parse(POSTFIX_OPENDKIM).results[0].properties["header.d"] == "example.com"
    assert parse("mx.portal.local; none") == AuthenticationResults(OURS, [])
    assert parse("mx.portal.local 1; none (no checks)") == AuthenticationResults(OURS, [])


@pytest.mark.parametrize(
    "value",
    ["", "   ", "(only a comment)", "; dkim=pass", "= pass", 'mx "unterminated; dkim=pass'],
)
def test_garbage_never_raises_nor_verifies(value):
    parse(value)
    assert not sender_verified([value], "mx", "ivan@example.com")


@pytest.mark.parametrize("header", [POSTFIX_OPENDKIM, OPENDMARC, RSPAMD])
def test_a_pass_from_our_mta_for_the_from_domain_verifies(header):
    assert sender_verified([header], OURS, "ivan@example.com")
    assert sender_verified([header], "MX.Portal.Local", "Ivan@Example.COM")


def test_spf_alone_must_be_aligned_with_the_from_domain():
    spf = "mx.portal.local; spf=pass smtp.mailfrom=bounce@example.com"
    assert sender_verified([spf], OURS, "ivan@example.com")
    assert not sender_verified([spf], OURS, "ivan@example.org")
    other = "mx.portal.local; spf=pass smtp.mailfrom=bounce@mailer.example.net"
    assert not sender_verified([other], OURS, "ivan@example.com")


@pytest.mark.parametrize(
    "headers",
    [
        [],
        ["mx.portal.local; none"],
        ["mx.portal.local; dkim=fail header.d=example.com; spf=softfail smtp.mailfrom=example.com"],
        ["mx.portal.local; dkim=pass header.d=evil.example"],  # signed, but by someone else
        ["mx.portal.local; dkim=pass header.d=sub.example.com"],
        ["mx.portal.local; dmarc=pass header.from=evil.example"],
        ["mx.portal.local; dmarc=fail header.from=example.com"],
        ["mx.portal.local; dkim=pass (header.d=example.com)"],  # only in a comment
        ['mx.portal.local; dkim=pass reason="; dmarc=pass"'],  # only in a quoted string
        ["mx.evil.example; dmarc=pass header.from=example.com"],  # someone else's verdict
        [GMAIL],  # a real verdict, but not our MTA's
        ["mx.portal.local.evil.example; dmarc=pass"],
    ],
)
def test_anything_else_does_not_verify(headers):
    assert not sender_verified(headers, OURS, "ivan@example.com")


def test_only_the_topmost_header_of_our_mta_counts():
    failed = "mx.portal.local; dmarc=fail header.from=example.com"
    forged_below = [failed, OPENDMARC]  # the sender's own header sits under our MTA's
    assert not sender_verified(forged_below, OURS, "ivan@example.com")
    assert sender_verified(["other.example; dmarc=fail", OPENDMARC], OURS, "ivan@example.com")


def test_without_a_configured_id_or_a_sender_nothing_verifies():
    assert not sender_verified([OPENDMARC], None, "ivan@example.com")
    assert not sender_verified([OPENDMARC], "", "ivan@example.com")
    assert not sender_verified([OPENDMARC], OURS, "")
