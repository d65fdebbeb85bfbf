"""The hard rules (constraints.RULES) in words a coordinator can act on, for a match refused or overridden."""

from dataclasses import replace

from matching import constraints, explain, scoring
from matching.model import ReferralProfile, VolunteerProfile


def words(rule: str, referral: ReferralProfile, volunteer: VolunteerProfile) -> str:
    """`the volunteer lacks what the mother marked essential (specialism baby loss)`."""
    parent = scoring.parent(referral)
    who = scoring.name(volunteer)
    if rule == "volunteer_gender":
        return f"{parent} asked for {scoring.GENDERS.get(referral.volunteer_gender or '', 'a')} volunteer"
    if rule == "essential_attribute_missing":
        # Each essential asked of the rule itself, alone; a gender she asked for is its own rule.
        missing = [
            item
            for item in explain.essentials_named(referral)
            if not item.startswith("volunteer_gender:")
            and not constraints.essentials_met(replace(referral, must_match=frozenset({item})), volunteer)
        ]
        what = ", ".join(explain._essential_words(item) for item in missing)
        return f"{who} lacks what {parent} marked essential ({what})"
    fixed = {
        "volunteer_not_ready": f"{who} is not ready for a new match",
        "no_free_capacity": f"{who} has no free place",
        "no_shared_language": f"{who} and {parent} share no language, and no interpreter can be arranged in "
        f"{parent}'s formats",
        "no_reachable_shared_format": f"no format {parent} chose brings them together ({who} does not offer it, "
        "is out of reach or across the sea, or no venue within both reaches is open with a room when both are free)",
        "no_common_free_hour": f"{who} and {parent} have no free weekly hour in common",
        "rejected_or_declined_before": "this pair was rejected or declined before",
    }
    return fixed.get(rule, rule.replace("_", " "))
