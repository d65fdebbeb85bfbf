"""The subject and body of an email the smtp channel sends: the programme's text for the kind and language, else
a built-in neutral one, filled with the message's personalisation fields and nothing else.

Notify keeps its templates; a programme on its own mail server has none, so these few lines stand in. They are
plain and neutral on purpose (no baby-themed wording), which is why a referral carrying a sensitive code always
gets the built-in text, never the programme's own."""

import re
from collections.abc import Mapping

from api_schemas.messages import MessageKind as K
from api_schemas.programme import EmailText, ProgrammeSettings
from service.messages import words

_PLACEHOLDER = re.compile(r"\(\(([a-z_]+)\)\)")


def _text(subject: str, body: str) -> EmailText:
    return EmailText(subject=subject, body=body)


BUILT_IN: dict[str, dict[K, EmailText]] = {
    "en": {
        K.match_confirmed: _text(
            "Your peer supporter",
            "Hello ((first_name)),\n\n((other_first_name)) will be your peer supporter, through ((format)). "
            "We will send you the times of your sessions.",
        ),
        K.session_reminder: _text(
            "Reminder: ((date)) at ((time))",
            "Hello ((first_name)),\n\nA reminder of your session with ((other_first_name)) on ((date)) at ((time)).",
        ),
        K.session_changed: _text(
            "Your session has moved",
            "Hello ((first_name)),\n\nYour session with ((other_first_name)) is now on ((date)) at ((time)).",
        ),
        K.session_cancelled: _text(
            "A session will not take place",
            "Hello ((first_name)),\n\nYour session on ((date)) will not take place. We will be in touch.",
        ),
        K.ending_soon: _text(
            "Your sessions will end soon",
            "Hello ((first_name)),\n\nYour sessions with ((other_first_name)) will end soon. Your next one is a "
            "chance to talk about what comes after.",
        ),
        K.missed_you: _text(
            "We missed you",
            "Hello ((first_name)),\n\nWe missed you on ((date)). ((other_first_name)) looks forward to the next "
            "session. If anything has changed, reply or call us.",
        ),
        K.match_offered: _text(
            "A new match is waiting for you",
            "Hello ((first_name)),\n\nA new match (((format))) is waiting for your answer.",
        ),
        K.plan_changed: _text(
            "Your plan has changed",
            "Hello ((first_name)),\n\nA session with ((other_first_name)) has changed. Please look at your plan.",
        ),
        K.check_in_prompt: _text(
            "Time to check in",
            "Hello ((first_name)),\n\nYour visit at ((time)) has begun: please check in.",
        ),
    },
    "pl": {
        K.match_confirmed: _text(
            "Twoja osoba wspierająca",
            "Dzień dobry ((first_name)),\n\nTwoją osobą wspierającą będzie ((other_first_name)). Forma spotkań: "
            "((format)). Wkrótce prześlemy terminy.",
        ),
        K.session_reminder: _text(
            "Przypomnienie: ((date)), godz. ((time))",
            "Dzień dobry ((first_name)),\n\nPrzypominamy o spotkaniu: ((date)), godz. ((time)).",
        ),
        K.session_changed: _text(
            "Nowy termin spotkania",
            "Dzień dobry ((first_name)),\n\nNowy termin spotkania: ((date)), godz. ((time)).",
        ),
        K.session_cancelled: _text(
            "Spotkanie się nie odbędzie",
            "Dzień dobry ((first_name)),\n\nSpotkanie ((date)) się nie odbędzie. Skontaktujemy się z Tobą.",
        ),
        K.ending_soon: _text(
            "Spotkania wkrótce się zakończą",
            "Dzień dobry ((first_name)),\n\nTwoje spotkania wkrótce się zakończą. Na następnym porozmawiacie o tym, "
            "co dalej.",
        ),
        K.missed_you: _text(
            "Brakowało nam Ciebie",
            "Dzień dobry ((first_name)),\n\nBrakowało nam Ciebie ((date)). Jeśli coś się zmieniło, odpisz lub "
            "zadzwoń do nas.",
        ),
        K.match_offered: _text(
            "Nowe dopasowanie czeka",
            "Dzień dobry ((first_name)),\n\nNowe dopasowanie czeka na Twoją odpowiedź. Forma spotkań: ((format)).",
        ),
        K.plan_changed: _text(
            "Zmiana planu spotkań",
            "Dzień dobry ((first_name)),\n\nPlan spotkań się zmienił. Sprawdź go, proszę.",
        ),
        K.check_in_prompt: _text(
            "Czas się zameldować",
            "Dzień dobry ((first_name)),\n\nWizyta o ((time)) się rozpoczęła: zamelduj się, proszę.",
        ),
    },
}


def text_for(programme: ProgrammeSettings, kind: K, language: str, *, sensitive: bool) -> EmailText:
    """Her language first: the programme's text in it (or its primary subtag), else the built-in one in it; only
    then the programme's English, else the built-in English. A sensitive referral always gets the built-in
    text."""
    own = {} if sensitive else programme.messages.email_texts.get(kind, {})
    for tag in (language, language.split("-")[0]):
        if tag in own:
            return own[tag]
    known = words.language_of(language)
    if known != "en" and kind in BUILT_IN.get(known, {}):
        return BUILT_IN[known][kind]
    return own.get("en") or BUILT_IN["en"][kind]


def fill(text: str, fields: Mapping[str, str]) -> str:
    """Each ((field)) replaced by its value; a field the message does not carry becomes empty."""
    return _PLACEHOLDER.sub(lambda found: fields.get(found.group(1), ""), text)


def render(
    programme: ProgrammeSettings, kind: K, language: str, fields: Mapping[str, str], *, sensitive: bool
) -> tuple[str, str]:
    """The email's subject and body."""
    text = text_for(programme, kind, language, sensitive=sensitive)
    return fill(text.subject, fields), fill(text.body, fields)
