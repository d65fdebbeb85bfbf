"""ETag and If-Match for records that carry a version number."""

from fastapi import Response

from service.core.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def check_if_match(if_match: str | None, version: int) -> None:
    """A change must say which version it was made from: without If-Match two coordinators' edits would
    silently overwrite each other (a lost update). `*` means any version, for a client that truly means it."""
    if if_match is None:
        raise PreconditionRequired(
            f"Send If-Match with the ETag you read (now {etag(version)}), so your change cannot undo someone else's.",
            extra={"etag": etag(version)},
        )
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or etag(version) in candidates:
        return
    raise PreconditionFailed(
        f"The record has changed: its current ETag is {etag(version)}.", extra={"etag": etag(version)}
    )
