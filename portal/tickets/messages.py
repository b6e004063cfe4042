"""Words for ticket values, in the reader's language."""

from flask_babel import lazy_gettext as _l

TIER_LABELS = {
    "partner": _l("Partner"),
    "commercial": _l("Commercial"),
    "vip": _l("Commercial VIP"),
    "noncommercial": _l("Non-commercial"),
}
LEVEL_LABELS = {
    "standard": _l("Standard"),
    "special": _l("Special request"),
    "consultation": _l("Consultation"),
    "development": _l("Development"),
}
STATUS_LABELS = {
    "new": _l("New"),
    "open": _l("In progress"),
    "waiting_customer": _l("Waiting for your reply"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
STAFF_STATUS_LABELS = STATUS_LABELS | {"waiting_customer": _l("Waiting for the customer")}
CRITICALITY_LABELS = {
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "critical": _l("Critical"),
}
CRITICALITY_CHOICES = {
    "low": _l("Low: a question, no hurry"),
    "normal": _l("Normal: something does not work as expected"),
    "high": _l("High: work is seriously hampered"),
    "critical": _l("Critical: the site or portal is down"),
}
CHANNEL_LABELS = {
    "web": _l("Web form"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "chat": _l("Chat"),
}
EVENT_LABELS = {
    "status": _l("Status"),
    "assignee": _l("Specialist"),
    "category": _l("Problem type"),
    "criticality": _l("Criticality"),
    "service_level": _l("Service level"),
    "rating": _l("Rating"),
    "scope_review": _l("Scope review"),
    "merged_into": _l("Merged into"),
    "merged_from": _l("Merged from"),
}
COUPON_ERRORS = {
    "not_found": _l(
        "There is no such coupon for your organisation. Check the code: letters "
        "and digits, as in the letter you received."
    ),
    "expired": _l("This coupon has expired (coupons are valid for one year)."),
    "voided": _l(
        "This coupon was replaced by a new one when support was renewed; its unused "
        "requests are void. Use the new coupon."
    ),
    "used_up": _l("All special requests of this coupon have been used."),
}


def tier_label(tier: str) -> str:
    return str(TIER_LABELS.get(tier, tier))


def level_label(level: str) -> str:
    return str(LEVEL_LABELS.get(level, level))


def coupon_error_message(code: str) -> str:
    return str(COUPON_ERRORS.get(code, COUPON_ERRORS["not_found"]))


UPLOAD_ERRORS = {
    "too_big": _l("“%(name)s” is larger than the limit."),
    "too_many": _l("“%(name)s” was not added: too many files on one message."),
    "type": _l("“%(name)s” is not an allowed type: attach images, PDF, text, logs or ZIP."),
    "empty": _l("“%(name)s” is empty."),
    "archive": _l(
        "“%(name)s” is a damaged or unsafe archive (too many files or too large when unpacked)."
    ),
}


def upload_error_message(code: str, name: str) -> str:
    return str(UPLOAD_ERRORS.get(code, UPLOAD_ERRORS["type"])) % {"name": name}
