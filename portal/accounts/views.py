"""Sign up, sign in, sign out and password reset pages."""

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import services
from portal.accounts.forms import ResetPasswordForm, ResetRequestForm, SignInForm, SignUpForm
from portal.accounts.models import User
from portal.extensions import db, limiter, login_manager
from portal.mail.services import absolute_url
from portal.site.views import safe_next

bp = Blueprint("accounts", __name__)


def account_error_message(error: services.AccountError) -> str:
    messages = {
        "bad_credentials": _("Wrong e-mail or password."),
        "locked": _(
            "Too many failed attempts. The account is locked until %(time)s; you can "
            "reset the password to unlock it now.",
            time=format_datetime(error.until, "short") if error.until else "",
        ),
        "inactive": _("This account is disabled. Please contact support."),
        "email_taken": _(
            "An account with this e-mail already exists. Sign in or reset the password."
        ),
        "token_expired": _("The reset link has expired. Ask for a new one."),
        "token_invalid": _("The reset link is not valid or was already used. Ask for a new one."),
    }
    return messages[error.code]


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.unauthorized_handler
def unauthorized():
    if request.path.startswith("/api/"):
        message = _("Sign in first.")
        return jsonify(error={"code": "unauthorized", "message": message}), 401
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for("accounts.signin", next=request.full_path.rstrip("?")))


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit("10 per minute;50 per hour", methods=["POST"])
def signin():
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountError as error:
            form.password.errors = [account_error_message(error)]
        else:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), default=url_for("kb.home")))
    return render_template("accounts/signin.html", form=form)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def signup():
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.register(
                form.email.data, form.name.data, form.password.data, str(get_locale())
            )
        except services.AccountError as error:
            form.email.errors = [account_error_message(error)]
        else:
            login_user(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("kb.home"))
    return render_template("accounts/signup.html", form=form)


@bp.post("/signout")
@login_required
def signout():
    logout_user()
    return redirect(url_for("kb.home"))


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data,
            lambda token: absolute_url("accounts.reset_password", token=token),
        )
        flash(
            _(
                "If an account with this e-mail exists, we have sent a link to reset the "
                "password. It works for %(hours)d hour(s).",
                hours=current_app.config["PORTAL_RESET_TOKEN_HOURS"],
            ),
            "success",
        )
        return redirect(url_for("accounts.signin"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        services.user_for_reset_token(token)
    except services.AccountError as error:
        flash(account_error_message(error), "error")
        return redirect(url_for("accounts.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except services.AccountError as error:
            flash(account_error_message(error), "error")
            return redirect(url_for("accounts.reset_request"))
        login_user(user)
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("kb.home"))
    return render_template("accounts/reset_password.html", form=form)


@bp.app_context_processor
def account_context() -> dict:
    return {"user": current_user}
