"""BCP 47 language tags, validated and put in canonical form with `langcodes`."""

import langcodes

from service.core.errors import InvalidInput


def normalise_one(tag: str, *, loc: list[str]) -> str:
    """One canonical tag; an invalid one is reported at `loc` itself."""
    if not _valid(tag):
        raise InvalidInput([(loc, f"'{tag}' is not a valid BCP 47 language tag (for example en, pl, zh-Hant)")])
    return str(langcodes.standardize_tag(tag))


def _valid(tag: str) -> bool:
    try:
        return bool(langcodes.tag_is_valid(tag) and langcodes.Language.get(tag).is_valid())
    except (langcodes.LanguageTagError, ValueError):
        return False


def normalise(tags: list[str], *, loc: list[str]) -> list[str]:
    """Canonical tags in the given order without repeats; every invalid tag is reported at once."""
    errors: list[tuple[list[str | int], str]] = []
    out: list[str] = []
    for index, tag in enumerate(tags):
        if not _valid(tag):
            errors.append(([*loc, index], f"'{tag}' is not a valid BCP 47 language tag (for example en, pl, zh-Hant)"))
            continue
        canonical = langcodes.standardize_tag(tag)
        if canonical not in out:
            out.append(canonical)
    if errors:
        raise InvalidInput(errors)
    return out
