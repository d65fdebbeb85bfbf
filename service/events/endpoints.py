from fastapi import APIRouter, Request, Response

from api_schemas.common import Page
from api_schemas.events import DeliveryOut, SecretRotated, SecretRotationIn, WebhookCreated, WebhookIn, WebhookOut
from service.core.deps import Admin, SessionDep
from service.core.pagination import LimitParam
from service.events import service as webhook_service

router = APIRouter(prefix="/v1/webhooks", tags=["events"])


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(
    webhook_in: WebhookIn, request: Request, db: SessionDep, admin: Admin, response: Response
) -> WebhookCreated:
    """Subscribe a URL to events. Deliveries are signed the Standard Webhooks way (`webhook-id`,
    `webhook-timestamp`, `webhook-signature`); without a `secret` in the request the service generates a `whsec_`
    one and returns it this once."""
    created = webhook_service.create(db=db, actor=admin, webhook_in=webhook_in, settings=request.app.state.settings)
    response.headers["Location"] = f"/v1/webhooks/{created.id}"
    return created


@router.get("", response_model=Page[WebhookOut])
def list_webhooks(db: SessionDep, _admin: Admin) -> Page[WebhookOut]:
    return Page[WebhookOut](items=[webhook_service.to_out(w) for w in webhook_service.listing(db=db)])


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: str, db: SessionDep, admin: Admin) -> Response:
    webhook = webhook_service.live(db=db, webhook_id=webhook_id)
    webhook_service.delete(db=db, actor=admin, webhook=webhook)
    return Response(status_code=204)


@router.post("/{webhook_id}/secrets", response_model=SecretRotated)
def rotate_webhook_secret(
    webhook_id: str, db: SessionDep, admin: Admin, rotation_in: SecretRotationIn | None = None
) -> SecretRotated:
    """Rotate the signing secret: the new one (given, or generated and returned this once) signs from now on and
    the previous one beside it for `grace_period_hours` (24 by default), so `webhook-signature` carries both."""
    webhook = webhook_service.live(db=db, webhook_id=webhook_id)
    return webhook_service.rotate_secret(
        db=db, actor=admin, webhook=webhook, rotation_in=rotation_in or SecretRotationIn()
    )


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(webhook_id: str, db: SessionDep, _admin: Admin, limit: LimitParam = 50) -> Page[DeliveryOut]:
    """The newest deliveries first, with attempts and the last error."""
    webhook = webhook_service.live(db=db, webhook_id=webhook_id)
    return Page[DeliveryOut](items=webhook_service.deliveries(db=db, webhook=webhook, limit=limit))
