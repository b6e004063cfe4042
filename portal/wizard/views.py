"""The request wizard: step 1, the category's step, the description, the preview, and the
suggested articles beside every step."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.analytics.services import record_funnel, rejected_articles
from portal.coupons.services import CouponError, format_code
from portal.extensions import db, limiter
from portal.forms import ActionForm, choices
from portal.kb.services import reader_language, search_index
from portal.tickets.access import can_view
from portal.tickets.attachments import send_stored
from portal.tickets.categories import configured_categories as _categories
from portal.tickets.categories import details_form_class, details_from_form
from portal.tickets.filing import prepare_scope_check
from portal.tickets.messages import coupon_error_message, level_label, upload_error_message
from portal.tickets.models import Ticket
from portal.tickets.services import TicketError
from portal.wizard import services
from portal.wizard.forms import (
    DeflectForm,
    DescriptionForm,
    FunnelEventForm,
    PreviewForm,
    SubjectForm,
)

bp = Blueprint("wizard", __name__, url_prefix="/requests")
SUGGESTIONS = 5


@bp.before_request
@login_required
def signed_in_only():
    prepare_scope_check()


def _subject_form(**kwargs) -> SubjectForm:
    form = SubjectForm(**kwargs)
    lang = str(get_locale())
    form.category.choices = choices(
        [("", _("Choose the problem type"))]
        + [(s, c.title_in(lang)) for s, c in _categories().items()]
    )
    return form


def _draft(token: str):
    draft = services.draft_for(current_user, token)
    if draft is None:
        abort(404)
    return draft


def _suggestions(draft=None, record: bool = True, text: str = "") -> list:
    text = services.request_text(draft) if draft else text
    if not text.strip():
        return []
    hits = (
        search_index()
        .suggest(
            text + " ",
            limit=SUGGESTIONS,
            prefer_lang=reader_language(text),
            exclude=rejected_articles(draft.id) if draft else frozenset(),
        )
        .hits
    )
    if hits and draft is not None and record:
        record_funnel("suggestions_shown", draft.id, data={"slugs": [h.slug for h in hits]})
        db.session.commit()
    return hits


def _render_step(template: str, draft, **context):
    category = _categories().get(draft.category) if draft else None
    return render_template(
        template,
        draft=draft,
        category=category,
        steps=services.steps(draft, category) if draft else services.steps(None, None),
        reachable=services.reachable_steps(draft, category),
        suggestions=_suggestions(draft),
        rejected=sorted(rejected_articles(draft.id)) if draft else [],
        deflect_form=DeflectForm(),
        format_coupon=format_code,
        **context,
    )


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def new():
    linked = _linked_ticket(request.values.get("linked", ""))
    form = _subject_form()
    if linked is not None and not form.is_submitted():
        form.title.data = _("Follow-up: %(title)s", title=linked.title)[:200]
        form.category.data = linked.category
    elif not form.is_submitted():  # the question asked in search, carried over
        form.title.data = " ".join(request.args.get("title", "").split())[:200]
    if form.validate_on_submit():
        draft = services.start(
            current_user, form.title.data, form.category.data, str(get_locale()), linked
        )
        return redirect(_step_url(draft, "subject"))
    return render_template(
        "wizard/subject.html",
        form=form,
        draft=None,
        category=None,
        steps=services.steps(None, None),
        drafts=services.active_drafts(current_user),
        suggestions=[] if form.is_submitted() else _suggestions(text=form.title.data or ""),
        deflect_form=DeflectForm(),
        action_form=ActionForm(),
        linked=linked,
    )


def _linked_ticket(number: str):
    """An earlier request of this user that a new one follows up, if the number is one."""
    if not number:
        return None
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number[:20]))
    return ticket if ticket is not None and can_view(current_user, ticket) else None


def _step_url(draft, after: str) -> str:
    category = _categories().get(draft.category)
    step = services.step_after(draft, category, after)
    endpoint = "wizard.preview" if step == services.PREVIEW else "wizard.step"
    values = (
        {"token": draft.token} if step == services.PREVIEW else {"token": draft.token, "step": step}
    )
    return url_for(endpoint, **values)


@bp.route("/drafts/<token>/<any(subject, details, description):step>", methods=["GET", "POST"])
def step(token, step):
    draft = _draft(token)
    if draft.state != "active":
        return redirect(url_for("wizard.new"))
    category = _categories().get(draft.category)
    if not services.reachable(draft, category, step):
        return redirect(url_for("wizard.step", token=token, step="subject"))
    if step == "subject":
        form = _subject_form(obj=draft)
        if form.validate_on_submit():
            services.save_subject(draft, form.title.data, form.category.data)
            return redirect(_step_url(draft, "subject"))
        return _render_step(
            "wizard/subject.html", draft, form=form, drafts=[], action_form=ActionForm()
        )
    if step == "details":
        form = details_form_class(category)(data=draft.details)
        if form.validate_on_submit():
            services.save_details(draft, details_from_form(category, form))
            return redirect(_step_url(draft, "details"))
        return _render_step("wizard/details.html", draft, form=form)
    form = DescriptionForm(obj=draft, coupon=draft.coupon_code)
    limits = {
        "count": current_app.config["PORTAL_ATTACHMENTS_PER_MESSAGE"],
        "mb": current_app.config["PORTAL_ATTACHMENT_MAX_MB"],
    }
    if form.validate_on_submit():
        uploads = [f for f in (form.files.data or []) if getattr(f, "filename", "")]
        problems = services.save_description(
            draft, form.description.data, form.criticality.data, form.coupon.data or "", uploads
        )
        form.files.errors = [upload_error_message(p.code, p.filename) for p in problems]
        coupon, form.coupon.errors = _checked_coupon(draft)
        if not problems and not form.coupon.errors:
            return redirect(_step_url(draft, "description"))
    else:
        coupon, _errors = _checked_coupon(draft)
    return _render_step(
        "wizard/description.html",
        draft,
        form=form,
        limits=limits,
        coupon=coupon,
        action_form=ActionForm(),
    )


def _checked_coupon(draft):
    """The draft's coupon and the words for what is wrong with it, if anything."""
    try:
        return services.draft_coupon(draft), []
    except CouponError as error:
        return None, [coupon_error_message(error.code)]


@bp.route("/drafts/<token>/preview")
def preview(token):
    draft = _draft(token)
    category = _categories().get(draft.category)
    if draft.state != "active":
        return redirect(url_for("wizard.new"))
    if not services.reachable(draft, category, services.PREVIEW):
        return redirect(url_for("wizard.step", token=token, step="subject"))
    services.touch(draft, services.PREVIEW)
    return _render_preview(draft, PreviewForm())


def _render_preview(draft, form, status=200):
    result = services.preview(draft)
    return _render_step(
        "wizard/preview.html",
        draft,
        form=form,
        preview=result,
        level=level_label(result.service_level),
        coupon_error=coupon_error_message(result.coupon_error) if result.coupon_error else None,
        coupon=_checked_coupon(draft)[0] if draft.coupon_code else None,
    ), status


@bp.post("/drafts/<token>/submit")
@limiter.limit("10 per minute;100 per hour", methods=["POST"])
def submit(token):
    draft = _draft(token)
    if draft.state != "active":
        return redirect(url_for("wizard.new"))
    if not current_user.email_confirmed:  # the draft stays; filing waits for the address
        return redirect(url_for("accounts.confirm_pending"))
    form = PreviewForm()
    if not form.validate_on_submit():
        return _render_preview(draft, form, 400)
    try:
        ticket = services.submit(draft, form.insist.data, form.insist_note.data or "")
    except services.WizardError as error:
        if error.code == "out_of_scope":
            flash(
                _(
                    "This request looks like work support does not do. Edit it, or tick "
                    "“This is a malfunction of the product” and say why."
                ),
                "error",
            )
        return _render_preview(draft, form, 400)
    except CouponError as error:
        flash(coupon_error_message(error.code), "error")
        return _render_preview(draft, form, 400)
    except TicketError:
        flash(_("The request could not be filed: check the title and the description."), "error")
        return _render_preview(draft, form, 400)
    flash(
        _(
            "Request %(number)s is filed. We have sent a confirmation to %(email)s.",
            number=ticket.number,
            email=current_user.email,
        ),
        "success",
    )
    return redirect(url_for("tickets.show", number=ticket.number))


@bp.post("/drafts/<token>/deflect")
def deflect(token):
    draft = _draft(token)
    form = DeflectForm()
    if form.validate_on_submit() and search_index().article(form.slug.data):
        services.deflect(draft, form.slug.data)
        return redirect(url_for("wizard.solved", slug=form.slug.data))
    return redirect(url_for("wizard.new"))


@bp.post("/new/deflect")
def deflect_new():
    form = DeflectForm()
    if form.validate_on_submit() and search_index().article(form.slug.data):
        services.deflect_before_draft(
            current_user, form.title.data or "", form.slug.data, str(get_locale())
        )
        return redirect(url_for("wizard.solved", slug=form.slug.data))
    return redirect(url_for("wizard.new"))


@bp.get("/solved/<slug>")
def solved(slug):
    article = search_index().article(slug) or abort(404)
    return render_template("wizard/solved.html", article=article)


@bp.post("/drafts/<token>/discard")
def discard(token):
    draft = _draft(token)
    if ActionForm().validate_on_submit():
        services.discard(draft)
        flash(_("The draft is deleted."), "success")
    return redirect(url_for("wizard.new"))


@bp.post("/drafts/<token>/files/<int:file_id>/delete")
def delete_file(token, file_id):
    draft = _draft(token)
    if ActionForm().validate_on_submit():
        services.remove_file(draft, file_id)
    return redirect(url_for("wizard.step", token=token, step="description"))


@bp.get("/drafts/<token>/files/<int:file_id>")
def draft_file(token, file_id):
    draft = _draft(token)
    item = next((f for f in draft.files if f.id == file_id), None) or abort(404)
    return send_stored(item.stored_name, item.filename, item.content_type, item.size)


@bp.post("/drafts/<token>/events")
def funnel_event(token):
    draft = _draft(token)
    form = FunnelEventForm(MultiDict(_flatten(request.get_json(silent=True) or {})))
    if not form.validate():
        return jsonify(error={"code": "invalid_parameter", "message": _("Invalid event.")}), 400
    slugs = [s for s in form.slugs.data if s]
    slug = slugs[0] if form.kind.data != "suggestions_shown" and slugs else None
    data = {"slugs": slugs} if form.kind.data == "suggestions_shown" else None
    record_funnel(form.kind.data, draft.id, slug=slug, data=data)
    db.session.commit()
    return jsonify(ok=True)


def _flatten(payload: dict) -> list[tuple[str, str]]:
    if not isinstance(payload, dict):
        return []
    pairs = [("kind", str(payload.get("kind", "")))]
    slugs = payload.get("slugs") or []
    if isinstance(slugs, list):
        pairs += [(f"slugs-{i}", str(s)) for i, s in enumerate(slugs[:20])]
    return pairs
