"""Sign-up, sign-in and password reset forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.text import single_line

MIN_PASSWORD = 8


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))


class _NewPassword(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)],
        description=_l("At least 8 characters."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class SignUpForm(_NewPassword):
    name = StringField(
        _l("Your name"), filters=[single_line], validators=[DataRequired(), Length(max=200)]
    )
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    field_order = ("name", "email", "password", "confirm")


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(_NewPassword):
    pass
