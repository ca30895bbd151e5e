"""Forms: every POST carries a CSRF token except the one-click unsubscribe."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import (
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from release_notifier.artists.finder import LIST_MAX_CHARS, QUERY_MAX

FREQUENCY_CHOICES = [
    SelectChoice("weekly", "Every week"),
    SelectChoice("fortnightly", "Every two weeks"),
    SelectChoice("monthly", "Every month"),
]
RELEASE_TYPE_CHOICES = [
    SelectChoice("album", "Albums"),
    SelectChoice("single", "Singles and EPs"),
    SelectChoice("compilation", "Compilations"),
    SelectChoice("appears_on", "Appears on (other artists' releases they feature on)"),
]


def at_least_one(_form: FlaskForm, field: Field) -> None:
    """Like InputRequired, without marking every checkbox `required` in the HTML."""
    if not field.data:
        raise ValidationError("Choose at least one kind of release.")


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
        validators=[at_least_one],
    )


CADENCE_CHOICES = [
    SelectChoice("instant", "As soon as found (every check that finds something)"),
    SelectChoice("digest", "With my email digest"),
]


class CadenceForm(FlaskForm):
    cadence = RadioField(
        "When to send", choices=CADENCE_CHOICES, default="instant", validators=[InputRequired()]
    )


class ChannelForm(CadenceForm):
    """A push channel: its Apprise URL (never shown again once stored) and its cadence."""

    url = StringField(
        "Apprise URL",
        validators=[DataRequired("Enter the Apprise URL of your push service."), Length(max=2000)],
    )


class SearchForm(FlaskForm):
    """An artist search by name (GET: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    q = SearchField("Artist name", validators=[Length(max=QUERY_MAX)])


class ListForm(FlaskForm):
    """Spotify links or artist names, one a line: typed or pasted, or a text file."""

    lines = TextAreaField("Links or names, one a line", validators=[Length(max=LIST_MAX_CHARS)])
    upload = FileField("…or a text file", validators=[FileSize(max_size=LIST_MAX_CHARS)])


class ArtistForm(FlaskForm):
    """One artist to add, remove, mute or unmute, by Spotify id."""

    artist = HiddenField(validators=[Regexp(r"^[0-9A-Za-z]{22}$", message="Unknown artist.")])
