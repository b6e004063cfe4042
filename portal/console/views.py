"""The specialists' console: the queue in deadline order and phone requests."""

from flask import (
    Blueprint,
    abort,
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

from portal.console import services
from portal.console.forms import (
    CannedAnswerForm,
    PhoneRequestForm,
    QueueFilterForm,
)
from portal.coupons.services import CouponError
from portal.forms import ActionForm, choices
from portal.params import optional_int
from portal.sla import SERVICE_LEVELS, TIERS
from portal.tickets.access import require_staff, ticket_for_viewer
from portal.tickets.categories import configured_categories as _categories
from portal.tickets.categories import details_form_class, details_from_form
from portal.tickets.conversation import (
    assign,
    canned_answers,
    change_category,
    change_criticality,
    merge,
    render_canned,
    set_status,
)
from portal.tickets.filing import OutOfScope, Request, file_request
from portal.tickets.messages import coupon_error_message, level_label, tier_label
from portal.tickets.panel import staff_panel
from portal.tickets.services import (
    TicketError,
    change_service_level,
    take,
)

bp = Blueprint("console", __name__, url_prefix="/agent")


@bp.before_request
@login_required
def staff_only():
    require_staff()


@bp.get("/queue")
def queue():
    lang = str(get_locale())
    form = QueueFilterForm(request.args)
    form.category.choices = choices(
        [("", _("All"))] + [(slug, c.title_in(lang)) for slug, c in _categories().items()]
    )
    form.tier.choices = choices([("", _("All"))] + [(t, tier_label(t)) for t in TIERS])
    form.level.choices = choices(
        [("", _("All"))] + [(lv, level_label(lv)) for lv in SERVICE_LEVELS]
    )
    form.assignee.choices = choices(
        [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))]
        + [(str(a.id), a.name) for a in services.agents()]
    )
    form.overdue.choices = choices(
        [("", _("Any")), ("overdue", _("Overdue")), ("at_risk", _("At risk or overdue"))]
    )
    filters = services.QueueFilters(
        form.category.data or "",
        form.tier.data or "",
        form.level.data or "",
        form.assignee.data or "",
        form.overdue.data or "",
    )
    assignee_id = None
    if filters.assignee not in ("", "me", "none"):
        assignee_id = optional_int(filters.assignee)
        if assignee_id is None:
            form.assignee.errors = [_("Choose a specialist from the list.")]
    rows = services.queue(filters, current_user, assignee_id)
    return render_template("console/queue.html", rows=rows, form=form, categories=_categories())


@bp.post("/tickets/<number>/take")
def take_ticket(number):
    ticket = ticket_for_viewer(number)
    if ActionForm().validate_on_submit():
        try:
            take(ticket, current_user)
        except TicketError:
            flash(_("That change is not possible."), "error")
        else:
            flash(_("You have taken request %(number)s.", number=ticket.number), "success")
    return redirect(url_for("tickets.show", number=ticket.number))


def _ticket_action(number: str, key: str, apply, message: str):
    """Validate one of the ticket page's staff forms (bound to this POST) and apply it."""
    ticket = ticket_for_viewer(number)
    form = staff_panel(ticket)[key]
    if not form.validate_on_submit():
        flash(_("The change was not saved: check the form."), "error")
    else:
        try:
            apply(ticket, form)
        except TicketError:
            flash(_("That change is not possible."), "error")
        else:
            flash(message, "success")
    return redirect(url_for("tickets.show", number=number))


@bp.post("/tickets/<number>/assign")
def assign_ticket(number):
    def apply(ticket, form):
        agent = services.user(int(form.assignee.data)) if form.assignee.data else None
        assign(ticket, agent, current_user)

    return _ticket_action(number, "assign", apply, _("Saved."))


@bp.post("/tickets/<number>/status")
def ticket_status(number):
    return _ticket_action(
        number, "status", lambda t, f: set_status(t, f.status.data, current_user), _("Saved.")
    )


@bp.post("/tickets/<number>/category")
def ticket_category(number):
    return _ticket_action(
        number,
        "category",
        lambda t, f: change_category(t, f.category.data, current_user, _categories()),
        _("Saved."),
    )


@bp.post("/tickets/<number>/criticality")
def ticket_criticality(number):
    return _ticket_action(
        number,
        "criticality",
        lambda t, f: change_criticality(t, f.criticality.data, current_user),
        _("Saved."),
    )


@bp.post("/tickets/<number>/level")
def ticket_level(number):
    return _ticket_action(
        number,
        "level",
        lambda t, f: change_service_level(t, f.service_level.data, current_user),
        _("Saved. The deadline is recomputed."),
    )


@bp.post("/tickets/<number>/merge")
def merge_ticket(number):
    def apply(ticket, form):
        target = services.ticket_numbered(form.target.data)
        if target is None:
            raise TicketError("merge")
        merge(ticket, target, current_user)

    return _ticket_action(number, "merge", apply, _("Merged."))


@bp.get("/canned/<int:answer_id>")
def canned_text(answer_id):
    """A saved reply with the placeholders filled for a ticket (JSON)."""
    answer = services.canned_answer(answer_id) or abort(404)
    ticket = ticket_for_viewer(request.args.get("ticket", ""))
    return jsonify(text=render_canned(answer, ticket, current_user))


@bp.route("/canned", methods=["GET", "POST"])
def canned():
    form = CannedAnswerForm()
    if form.validate_on_submit():
        services.add_canned(form.title.data, form.body.data, form.lang.data, current_user)
        flash(_("Saved."), "success")
        return redirect(url_for("console.canned"))
    return render_template(
        "console/canned.html", form=form, answers=canned_answers(), action_form=ActionForm()
    )


@bp.post("/canned/<int:answer_id>/delete")
def delete_canned(answer_id):
    answer = services.canned_answer(answer_id) or abort(404)
    if ActionForm().validate_on_submit():
        services.delete_canned(answer)
    return redirect(url_for("console.canned"))


@bp.route("/phone", methods=["GET", "POST"])
def phone_request():
    lang = str(get_locale())
    cats = _categories()
    chosen = request.values.get("category") if request.values.get("category") in cats else None
    form = PhoneRequestForm()
    form.category.choices = choices([(s, c.title_in(lang)) for s, c in cats.items()])
    details = details_form_class(cats[chosen], lang)(prefix="details") if chosen else None
    refusal = None
    if request.method == "POST" and chosen and form.validate_on_submit() and details.validate():
        customer = services.customer(form.customer_email.data)
        if customer is None:
            form.customer_email.errors = [_("No customer account with this e-mail.")]
        else:
            request_ = Request(
                author=customer,
                title=form.title.data,
                description=form.description.data,
                category=chosen,
                channel="phone",
                criticality=form.criticality.data,
                details=details_from_form(cats[chosen], details),
                coupon_code=form.coupon.data or None,
                lang=customer.locale or lang,
                logged_by=current_user,
            )
            try:
                ticket, _decision = file_request(request_, form.scope_note.data or "")
            except CouponError as error:
                form.coupon.errors = [coupon_error_message(error.code)]
            except OutOfScope as error:
                refusal = error.scope
            else:
                flash(
                    _(
                        "Request %(number)s filed for %(name)s.",
                        number=ticket.number,
                        name=customer.name,
                    ),
                    "success",
                )
                return redirect(url_for("tickets.show", number=ticket.number))
    return render_template(
        "console/phone.html", form=form, details=details, chosen=chosen, refusal=refusal
    )


@bp.post("/tickets/<number>/panel")
def update_ticket(number):
    """The panel's one form: apply each setting the specialist changed, in one go."""

    def apply(ticket, form):
        assignee = int(form.assignee.data) if form.assignee.data else None
        if assignee != ticket.assignee_id:
            assign(ticket, services.user(assignee) if assignee else None, current_user)
        if form.category.data != ticket.category:
            change_category(ticket, form.category.data, current_user, _categories())
        if form.criticality.data != ticket.criticality:
            change_criticality(ticket, form.criticality.data, current_user)
        if form.service_level.data != ticket.service_level:
            change_service_level(ticket, form.service_level.data, current_user)
        if form.status.data != ticket.status:
            set_status(ticket, form.status.data, current_user)

    return _ticket_action(number, "panel", apply, _("Saved."))
