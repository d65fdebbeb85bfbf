from sqlmodel import Session

from service.models import Programme

# The programme's settings are one row; a deployment serves one programme.
PROGRAMME_ID = 1


def get(db: Session) -> Programme | None:
    return db.get(Programme, PROGRAMME_ID)
