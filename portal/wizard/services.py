"""The request wizard: drafts step by step, the preview with scope and deadline, and the end
of every draft (submitted, deflected by an article, or abandoned)."""

import secrets

from flask import current_app
from sqlalchemy import select

from portal.accounts.models import User
from portal.analytics.services import record_funnel
from portal.clock import utcnow
from portal.coupons.models import Coupon
from portal.coupons.services import check
from portal.extensions import db
from portal.kb.evidence import learn
from portal.kb.learning import deflection_phrases
from portal.tickets.attachments import StoredUpload, UploadError, store
from portal.tickets.categories import Category
from portal.tickets.filing import Decision, OutOfScope, Request, decide, file_request
from portal.tickets.models import Ticket
from portal.wizard.models import ABANDONED, ACTIVE, DEFLECTED, SUBMITTED, Draft, DraftFile

SUBJECT, DETAILS, DESCRIPTION, PREVIEW = "subject", "details", "description", "preview"


class WizardError(ValueError):
    """A draft that cannot go on as asked; `code` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def steps(draft: Draft, category: Category | None) -> list[str]:
    """The steps of this draft: the category's own step only when it has fields."""
    middle = [DETAILS] if category and category.fields else []
    return [SUBJECT, *middle, DESCRIPTION, PREVIEW]


def step_after(draft: Draft, category: Category | None, step: str) -> str:
    order = steps(draft, category)
    return order[min(order.index(step) + 1, len(order) - 1)]


def reachable(draft: Draft, category: Category | None, step: str) -> bool:
    """A step can be opened once the steps before it were filled in."""
    order = steps(draft, category)
    if step not in order:
        return False
    if step == PREVIEW:
        return bool(draft.title and draft.category and draft.description)
    if step in (DETAILS, DESCRIPTION):
        return bool(draft.title and draft.category)
    return True


def reachable_steps(draft: Draft | None, category: Category | None) -> list[str]:
    """The steps the progress bar may link to: those that can be opened now."""
    if draft is None:
        return []
    return [step for step in steps(draft, category) if reachable(draft, category, step)]


def active_drafts(user: User) -> list[Draft]:
    return list(
        db.session.scalars(
            select(Draft)
            .where(Draft.user_id == user.id, Draft.state == ACTIVE)
            .order_by(Draft.updated_at.desc())
        )
    )


def draft_for(user: User, token: str) -> Draft | None:
    """The user's own draft with this token."""
    return db.session.scalar(select(Draft).where(Draft.token == token, Draft.user_id == user.id))


def start(user: User, title: str, category: str, lang: str, linked: Ticket | None = None) -> Draft:
    """A new draft from step 1 (following up an earlier request, if `linked`)."""
    draft = Draft(
        token=secrets.token_urlsafe(16),
        user_id=user.id,
        title=" ".join(title.split()),
        category=category,
        lang=lang,
        step=SUBJECT,
        linked_ticket_id=linked.id if linked is not None else None,
    )
    db.session.add(draft)
    db.session.flush()
    record_funnel("draft_started", draft.id)
    db.session.commit()
    return draft


def touch(draft: Draft, step: str) -> None:
    draft.step, draft.updated_at = step, utcnow()
    db.session.commit()


def save_subject(draft: Draft, title: str, category: str) -> None:
    if category != draft.category:
        draft.details = {}
    draft.title, draft.category = " ".join(title.split()), category
    touch(draft, SUBJECT)


def save_details(draft: Draft, details: dict) -> None:
    draft.details = details
    touch(draft, DETAILS)


def save_description(
    draft: Draft, description: str, criticality: str, coupon: str, uploads: list
) -> list[UploadError]:
    """Keep the text, and store each acceptable file; returns the refused ones."""
    draft.description, draft.criticality = description.strip(), criticality
    draft.coupon_code = coupon.strip()
    problems = []
    room = current_app.config["PORTAL_ATTACHMENTS_PER_MESSAGE"] - len(draft.files)
    for upload in uploads:
        if room <= 0:
            problems.append(UploadError("too_many", upload.filename))
            continue
        try:
            stored = store(upload.filename, upload.read())
        except UploadError as error:
            problems.append(error)
            continue
        draft.files.append(
            DraftFile(
                filename=stored.filename,
                stored_name=stored.stored_name,
                content_type=stored.content_type,
                size=stored.size,
            )
        )
        room -= 1
    touch(draft, DESCRIPTION)
    return problems


def remove_file(draft: Draft, file_id: int) -> None:
    for item in draft.files:
        if item.id == file_id:
            draft.files.remove(item)
            StoredUpload(item.filename, item.stored_name, item.content_type, item.size).discard()
    db.session.commit()


def request_text(draft: Draft) -> str:
    return f"{draft.title}\n{draft.description}"


def filing_request(draft: Draft) -> Request:
    """The draft as the filing policy reads it."""
    return Request(
        author=draft.user,
        title=draft.title,
        description=draft.description,
        category=draft.category,
        channel="web",
        criticality=draft.criticality,
        details=dict(draft.details),
        coupon_code=draft.coupon_code or None,
        lang=draft.lang,
        attachments=[
            StoredUpload(f.filename, f.stored_name, f.content_type, f.size) for f in draft.files
        ],
        linked_ticket_id=draft.linked_ticket_id,
    )


def preview(draft: Draft, now=None) -> Decision:
    """Classify the draft and compute its deadline as if it were filed now."""
    return decide(filing_request(draft), now)


def submit(draft: Draft, insist: bool = False, insist_note: str = "") -> Ticket:
    """File the draft through the common filing policy, exactly as previewed."""
    if draft.state != ACTIVE:
        raise WizardError("not_active")
    try:
        ticket, _ = file_request(filing_request(draft), insist_note if insist else "")
    except OutOfScope:
        raise WizardError("out_of_scope") from None
    draft.state, draft.ticket_id, draft.updated_at = SUBMITTED, ticket.id, utcnow()
    draft.files.clear()  # the files now belong to the ticket
    record_funnel("submitted", draft.id, data={"ticket": ticket.number})
    db.session.commit()
    return ticket


def deflect(draft: Draft, slug: str) -> None:
    """An article answered the question: the draft ends here, and its words lead there."""
    if draft.state == ACTIVE:
        draft.state, draft.deflected_by, draft.updated_at = DEFLECTED, slug, utcnow()
        record_funnel("deflected", draft.id, slug=slug)
        db.session.commit()
        learn(slug, deflection_phrases(draft.title, draft.description), draft.user)


def deflect_before_draft(user: User, title: str, slug: str, lang: str) -> Draft:
    """Deflected while typing the very first step, before a draft was saved."""
    draft = start(user, title[:200], "", lang)
    deflect(draft, slug)
    return draft


def discard(draft: Draft) -> None:
    """The customer gave up on the draft; its files go too."""
    if draft.state == ACTIVE:
        for item in list(draft.files):
            remove_file(draft, item.id)
        draft.state, draft.updated_at = ABANDONED, utcnow()
        record_funnel("abandoned", draft.id)
        db.session.commit()


def draft_coupon(draft: Draft, now=None) -> Coupon | None:
    """The draft's coupon if it could be used now; CouponError says why not."""
    if not draft.coupon_code:
        return None
    return check(draft.coupon_code, draft.user.organisation_id, now or utcnow())
