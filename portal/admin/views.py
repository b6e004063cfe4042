"""Administration: organisations and tiers, users and roles, coupons, the business calendar."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.admin import services
from portal.admin.forms import (
    OVERRIDE_LABELS,
    OVERRIDE_PROBLEMS,
    ROLE_LABELS,
    OrganisationForm,
    OverrideForm,
    UserForm,
)
from portal.calendar import services as calendar
from portal.clock import utcnow
from portal.coupons import services as coupons
from portal.forms import ActionForm, choices
from portal.tickets.access import require_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def admins_only():
    require_admin()


@bp.context_processor
def labels() -> dict:
    return {
        "role_label": lambda v: str(ROLE_LABELS.get(v, v)),
        "override_label": lambda v: str(OVERRIDE_LABELS.get(v, v)),
    }


@bp.get("/")
def index():
    figures = services.overview()
    return render_template(
        "admin/index.html",
        missing_years=calendar.years_without_data(utcnow().date()),
        failed_mail=figures.failed_mail,
        counts={"users": figures.users, "organisations": figures.organisations},
    )


@bp.get("/organisations")
def organisations():
    return render_template(
        "admin/organisations.html", organisations=services.organisations(), form=OrganisationForm()
    )


@bp.post("/organisations")
def create_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            services.save_organisation(None, form.name.data, form.tier.data)
        except services.NameTaken:
            flash(_("An organisation with this name already exists."), "error")
        else:
            flash(_("Organisation added."), "success")
        return redirect(url_for("admin.organisations"))
    rows = services.organisations()
    return render_template("admin/organisations.html", organisations=rows, form=form), 400


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
def organisation(org_id):
    org = services.organisation(org_id) or abort(404)
    form = OrganisationForm(obj=org)
    if form.validate_on_submit():
        try:
            services.save_organisation(org, form.name.data, form.tier.data)
        except services.NameTaken:
            form.name.errors = [_("An organisation with this name already exists.")]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.organisation", org_id=org.id))
    return render_template(
        "admin/organisation.html",
        org=org,
        form=form,
        coupon_form=ActionForm(),
        coupons=[
            (c, coupons.coupon_state(c, utcnow())) for c in coupons.organisation_coupons(org.id)
        ],
        format_code=coupons.format_code,
    )


@bp.post("/organisations/<int:org_id>/coupons")
def renew_coupon(org_id):
    org = services.organisation(org_id) or abort(404)
    if ActionForm().validate_on_submit():
        coupon = coupons.renew(org)
        flash(
            _(
                "New coupon %(code)s issued; unused requests of earlier coupons are void.",
                code=coupons.format_code(coupon.code),
            ),
            "success",
        )
    return redirect(url_for("admin.organisation", org_id=org.id))


@bp.get("/users")
def users():
    return render_template("admin/users.html", users=services.users())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id):
    person = services.user(user_id) or abort(404)
    form = UserForm(obj=person)
    orgs = services.organisations()
    form.organisation.choices = choices(
        [("", _("None (non-commercial)"))] + [(str(o.id), o.name) for o in orgs]
    )
    if not form.is_submitted():
        form.organisation.data = str(person.organisation_id or "")
    if form.validate_on_submit():
        services.save_user(
            person,
            form.name.data,
            form.role.data,
            int(form.organisation.data) if form.organisation.data else None,
            form.is_org_admin.data,
            form.phone.data,
            form.active.data,
        )
        flash(_("Saved."), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user.html", person=person, form=form)


@bp.route("/calendar", methods=["GET", "POST"])
def business_calendar():
    form = OverrideForm()
    if form.validate_on_submit():
        calendar.add_override(
            form.day.data, form.kind.data, form.opens.data, form.closes.data, form.note.data or ""
        )
        flash(_("Saved. Deadlines use it from now on."), "success")
        return redirect(url_for("admin.business_calendar"))
    return render_template(
        "admin/calendar.html",
        form=form,
        overrides=[
            (row, OVERRIDE_PROBLEMS.get(calendar.override_problem(row)))
            for row in calendar.list_overrides()
        ],
        missing_years=calendar.years_without_data(utcnow().date()),
        upcoming=calendar.unusual_days(utcnow().date()),
        delete_form=ActionForm(),
    )


@bp.post("/calendar/<int:override_id>/delete")
def delete_override(override_id):
    if ActionForm().validate_on_submit():
        calendar.delete_override(override_id)
        flash(_("Removed."), "success")
    return redirect(url_for("admin.business_calendar"))


@bp.get("/outbox")
def outbox():
    """E-mail that could not be delivered, and what is still waiting."""
    return render_template(
        "admin/outbox.html",
        failed=services.failed_mail(),
        pending=services.pending_mail(),
        action_form=ActionForm(),
    )


@bp.post("/outbox/<int:message_id>/retry")
def retry_mail(message_id):
    message = services.letter(message_id) or abort(404)
    if ActionForm().validate_on_submit() and services.send_again(message):
        flash(_("The message will be sent again."), "success")
    return redirect(url_for("admin.outbox"))
