"""The words a message's personalisation carries, in the message's language: the format and the local date.

Notify's templates (and the SMTP channel's texts) are written per language, but the values filled into them
come from the service, so "home visits" or "Tuesday 12 January" in a Polish message would read as a slip.
A language without its own words here falls back to its primary subtag, then to English."""

from datetime import datetime

# The format as the sentence "… your <format> with …" needs it (plural where the language counts them).
FORMATS: dict[str, dict[str, str]] = {
    "en": {
        "home_visit": "home visits",
        "telephone": "telephone calls",
        "in_person": "meeting in person",
        "video": "video calls",
    },
    "pl": {
        "home_visit": "wizyty domowe",
        "telephone": "rozmowy telefoniczne",
        "in_person": "spotkania osobiste",
        "video": "rozmowy wideo",
    },
    "cy": {
        "home_visit": "ymweliadau cartref",
        "telephone": "galwadau ffôn",
        "in_person": "cyfarfod wyneb yn wyneb",
        "video": "galwadau fideo",
    },
}
DAYS: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "pl": ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"),
    "cy": ("dydd Llun", "dydd Mawrth", "dydd Mercher", "dydd Iau", "dydd Gwener", "dydd Sadwrn", "dydd Sul"),
}
# Polish dates take the month in the genitive ("12 stycznia").
MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "pl": (
        "stycznia",
        "lutego",
        "marca",
        "kwietnia",
        "maja",
        "czerwca",
        "lipca",
        "sierpnia",
        "września",
        "października",
        "listopada",
        "grudnia",
    ),
    "cy": (
        "Ionawr",
        "Chwefror",
        "Mawrth",
        "Ebrill",
        "Mai",
        "Mehefin",
        "Gorffennaf",
        "Awst",
        "Medi",
        "Hydref",
        "Tachwedd",
        "Rhagfyr",
    ),
}
LANGUAGES = frozenset(FORMATS)


def language_of(tag: str) -> str:
    """The language whose words are used for `tag`: itself, its primary subtag, else English."""
    for candidate in (tag, tag.split("-")[0].lower()):
        if candidate in LANGUAGES:
            return candidate
    return "en"


def format_words(match_format: str, tag: str) -> str:
    """The format in her language's words; the code itself for a format no language names."""
    return FORMATS[language_of(tag)].get(match_format, FORMATS["en"].get(match_format, match_format))


def local_date(local: datetime, tag: str) -> str:
    """A local date as her language writes it: "Tuesday 12 January", "wtorek, 12 stycznia"."""
    language = language_of(tag)
    day, month = DAYS[language][local.weekday()], MONTHS[language][local.month - 1]
    if language == "pl":
        return f"{day}, {local.day} {month}"
    return f"{day} {local.day} {month}"
