"""Forms: every POST carries a CSRF token except the one-click unsubscribe."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectMultipleField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

FREQUENCY_CHOICES = [
    ("weekly", "Every week"),
    ("fortnightly", "Every two weeks"),
    ("monthly", "Every month"),
]
RELEASE_TYPE_CHOICES = [
    ("album", "Albums"),
    ("single", "Singles and EPs"),
    ("compilation", "Compilations"),
    ("appears_on", "Appears on (other artists' releases they feature on)"),
]


class SignupForm(FlaskForm):
    email = EmailField(
        "Your email address",
        validators=[DataRequired("Please enter your email address."), Length(max=254)],
    )


class ButtonForm(FlaskForm):
    """A form that is only a button (confirm, pause, resume, re-link, delete)."""


class PreferencesForm(FlaskForm):
    frequency = RadioField("How often", choices=FREQUENCY_CHOICES, validators=[InputRequired()])
    release_types = SelectMultipleField(
        "What to include",
        choices=RELEASE_TYPE_CHOICES,
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validators=[InputRequired("Choose at least one kind of release.")],
    )
