"""A referral's progress as the FHIR Task the referrer follows: its status and times, nothing about the parent."""

from typing import Any

from api_schemas.referrals import ReferralStatus
from service.models import Referral

TASK_STATUS = {
    ReferralStatus.waiting: "requested",
    ReferralStatus.proposed: "requested",
    ReferralStatus.escalated: "requested",
    ReferralStatus.matched: "accepted",
    ReferralStatus.active: "in-progress",
    ReferralStatus.ended: "completed",
    ReferralStatus.declined: "rejected",
    ReferralStatus.withdrawn: "cancelled",
}


def task(referral: Referral) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "id": referral.id,
        "status": TASK_STATUS[ReferralStatus(referral.status)],
        "intent": "order",
        "basedOn": [{"reference": f"ServiceRequest/{referral.id}"}],
        "authoredOn": referral.received_at.isoformat(),
        "lastModified": referral.updated_at.isoformat(),
    }


def searchset(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(tasks),
        "entry": [{"fullUrl": f"Task/{t['id']}", "resource": t, "search": {"mode": "match"}} for t in tasks],
    }
