"""Sign up, address confirmation, sign in and out, password reset and the sessions page."""

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
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import services, sessions
from portal.accounts.forms import ResetPasswordForm, ResetRequestForm, SignInForm, SignUpForm
from portal.accounts.models import User
from portal.extensions import limiter, login_manager
from portal.forms import ActionForm
from portal.outbox.mail import absolute_url
from portal.site.views import is_local_path, safe_next

bp = Blueprint("accounts", __name__)


@bp.record_once
def _remember_for_a_month(state) -> None:
    # Flask-Login's default is a year; a remember cookie lives as long as its session row.
    state.app.config.setdefault("REMEMBER_COOKIE_DURATION", sessions.SESSION_LIFETIME)


def account_error_message(error: services.AccountError) -> str:
    """The person's words for an account error."""
    messages = {
        "bad_credentials": _(
            "Wrong e-mail or password, or the account is temporarily locked after "
            "several failed attempts. Try again in 15 minutes or reset the password."
        ),
        "inactive": _("This account is disabled. Please contact support."),
        "lookalike": _(
            "Type the part of the address before @ in Latin letters: addresses in other "
            "alphabets, or mixing them, cannot receive our letters."
        ),
        "token_expired": _("The reset link has expired. Ask for a new one."),
        "token_invalid": _("The reset link is not valid or was already used. Ask for a new one."),
        "confirm_expired": _("The confirmation link has expired. Sign in and ask for a new one."),
        "confirm_invalid": _("The confirmation link is not valid. Sign in and ask for a new one."),
        "unconfirmed": _(
            "Confirm your e-mail address before filing a request: open the link in the "
            "letter we sent. You can ask for a new link at %(url)s.",
            url=absolute_url("accounts.confirm_pending"),
        ),
    }
    return messages[error.code]


@login_manager.user_loader
def load_user(identity: str):
    return sessions.user_for_session(identity)


@bp.before_app_request
def note_session_activity():
    if request.endpoint != "static" and current_user.is_authenticated:
        sessions.note_activity(current_user)


@login_manager.unauthorized_handler
def unauthorized():
    if request.path.startswith("/api/"):
        message = _("Sign in first.")
        return jsonify(error={"code": "unauthorized", "message": message}), 401
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for("accounts.signin", next=request.full_path.rstrip("?")))


def _sign_in(user: User, remember: bool = False) -> None:
    sessions.start_session(user, request.user_agent.string, request.remote_addr)
    login_user(user, remember=remember)


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
            _sign_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), default=_landing(user)))
    return render_template("accounts/signin.html", form=form, next=_next_path())


def _landing(user: User) -> str:
    """Where a sign-in without a target leads: staff to their work, customers home."""
    if user.is_staff:
        return url_for("console.queue")
    if user.is_editor:
        return url_for("editor.index")
    return url_for("kb.home")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def signup():
    form = SignUpForm()
    after = _next_path()
    if form.validate_on_submit():
        links = services.SignUpLinks(
            confirm=lambda token: absolute_url("accounts.confirm_email", token=token, next=after),
            signin=absolute_url("accounts.signin", next=after),
            reset=absolute_url("accounts.reset_request"),
        )
        try:
            services.register(
                form.email.data, form.name.data, form.password.data, str(get_locale()), links
            )
        except services.AccountError as error:
            form.email.errors = [account_error_message(error)]
        else:  # the same answer whether the address was new or known
            return redirect(url_for("accounts.signup_sent", next=after))
    return render_template("accounts/signup.html", form=form, next=after)


def _next_path() -> str | None:
    """The visitor's `?next=` when it is a local path, to carry through sign-up."""
    target = request.args.get("next")
    return target if is_local_path(target) else None


@bp.get("/signup/sent")
def signup_sent():
    return render_template("accounts/signup_sent.html", next=_next_path())


@bp.get("/account/confirm/<token>")
def confirm_email(token):
    try:
        services.confirm_email(token)
    except services.AccountError as error:
        flash(account_error_message(error), "error")
    else:
        flash(_("Your e-mail address is confirmed. You can file requests now."), "success")
    after = _next_path()
    if current_user.is_authenticated:
        return redirect(after or url_for("kb.home"))
    return redirect(url_for("accounts.signin", next=after))


@bp.get("/account/confirm")
@login_required
def confirm_pending():
    if current_user.email_confirmed:
        return redirect(url_for("kb.home"))
    return render_template("accounts/confirm_pending.html", form=ActionForm())


def _resend_key() -> str:
    # Per account, not per address: the limit holds from any number of places.
    account = (current_user.get_id() or "").partition(":")[0]
    return f"confirm-resend:{account or request.remote_addr}"


@bp.post("/account/confirm/resend")
@login_required
@limiter.limit("3 per hour", key_func=_resend_key)
def confirm_resend():
    if ActionForm().validate_on_submit() and not current_user.email_confirmed:
        services.resend_confirmation(
            current_user, lambda token: absolute_url("accounts.confirm_email", token=token)
        )
        flash(_("We have sent a new link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("accounts.confirm_pending"))


@bp.post("/signout")
@login_required
def signout():
    sessions.end_session(current_user, current_user.current_session_id)
    logout_user()
    return redirect(url_for("kb.home"))


@bp.get("/account/sessions")
@login_required
def sessions_page():
    return render_template(
        "accounts/sessions.html",
        sessions=sessions.live_sessions(current_user),
        current_id=current_user.current_session_id,
        form=ActionForm(),
    )


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id):
    if not ActionForm().validate_on_submit():
        abort(400)
    if not sessions.end_session(current_user, session_id):
        abort(404)
    if session_id == current_user.current_session_id:
        logout_user()
        return redirect(url_for("accounts.signin"))
    flash(_("The session has ended."), "success")
    return redirect(url_for("accounts.sessions_page"))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    if not ActionForm().validate_on_submit():
        abort(400)
    count = sessions.end_other_sessions(current_user)
    flash(_("Sessions ended: %(count)d.", count=count), "success")
    return redirect(url_for("accounts.sessions_page"))


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
        logout_user()  # whoever was signed in here, the sessions of this account have ended
        _sign_in(user)
        flash(_("Your password has been changed. Every other session has ended."), "success")
        return redirect(url_for("kb.home"))
    return render_template("accounts/reset_password.html", form=form)


@bp.app_context_processor
def account_context() -> dict:
    return {"user": current_user}
