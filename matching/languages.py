"""Language tags: compatibility by BCP 47 subtag prefix, and names for reasons."""

NAMES = {
    "en": "English",
    "pl": "Polish",
    "ur": "Urdu",
    "ar": "Arabic",
    "pa": "Punjabi",
    "zh": "Chinese",
    "zh-Hant": "Chinese (traditional)",
    "zh-Hans": "Chinese (simplified)",
    "yue": "Cantonese",
    "gd": "Gaelic",
    "ro": "Romanian",
    "so": "Somali",
    "fa": "Persian",
    "ti": "Tigrinya",
    "uk": "Ukrainian",
    "ru": "Russian",
    "bn": "Bengali",
    "hi": "Hindi",
    "ku": "Kurdish",
    "es": "Spanish",
    "fr": "French",
    "pt": "Portuguese",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "bg": "Bulgarian",
    "sk": "Slovak",
    "cs": "Czech",
    "hu": "Hungarian",
    "it": "Italian",
    "de": "German",
    "tr": "Turkish",
    "am": "Amharic",
    "bsl": "British Sign Language",
    "cy": "Welsh",
    "sco": "Scots",
}


def compatible(a: str, b: str) -> bool:
    """Equal, or one is the other narrowed by more subtags (`pa` and `pa-Guru`)."""
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def name(tag: str) -> str:
    """The English name of a language for reasons, falling back to its primary subtag, then the tag."""
    if tag in NAMES:
        return NAMES[tag]
    primary = tag.split("-")[0]
    return NAMES.get(primary, tag)
