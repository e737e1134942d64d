"""The generic CRM integration every other call names: list, register, delete (reference 1, #1-#3).

Gong allows one generic integration per company; registering a second answers 409, which is
turned into a message naming the one that exists. Deleting is asynchronous (it removes every CRM
object of the integration and can take hours): the deletion's request status is polled like an
upload's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ldjfix.errors import RemoteProblem, UsageProblem
from ldjfix.gong.client import ApiError, GongClient, new_client_request_id
from ldjfix.gong.status import Status


@dataclass(frozen=True, slots=True)
class Integration:
    """One generic CRM integration as Gong lists it; ``integration_id`` is an exact int64."""

    integration_id: int
    name: str | None
    owner_email: str | None

    def as_json(self) -> dict[str, Any]:
        """Gong's own keys: ``{integrationId, name, ownerEmail}``."""
        return {
            "integrationId": self.integration_id,
            "name": self.name,
            "ownerEmail": self.owner_email,
        }


def list_integrations(client: GongClient) -> list[Integration]:
    """The registered integration(s); entries without an integer id are left out."""
    found = []
    for item in client.list_integrations():
        number = item.get("integrationId")
        if isinstance(number, bool) or not isinstance(number, int):
            continue
        name, email = item.get("name"), item.get("ownerEmail")
        found.append(
            Integration(
                number,
                name if isinstance(name, str) else None,
                email if isinstance(email, str) else None,
            )
        )
    return found


def register_integration(client: GongClient, *, name: str, owner_email: str) -> int:
    """Register the generic integration; its exact integrationId. A second one is refused."""
    if not name.strip() or not owner_email.strip():
        raise UsageProblem("--name and --owner-email must not be empty.")
    if "@" not in owner_email:
        raise UsageProblem(f"--owner-email {owner_email!r} is not an email address.")
    try:
        return client.register_integration(name=name, owner_email=owner_email)
    except ApiError as exc:
        if exc.status_code != 409:
            raise
    existing = ", ".join(_describe(i) for i in _listed_quietly(client)) or "one"
    raise RemoteProblem(
        f"Gong allows one generic integration and already has {existing}.",
        hint="Use its integrationId (`ldjfix integrations list`), or delete it first "
        "(`ldjfix integrations delete --integration-id ID`: that removes all its CRM objects).",
    )


def find_integration(client: GongClient, integration_id: int) -> Integration:
    """The listed integration with this id; a UsageProblem naming the ones Gong has if absent."""
    listed = list_integrations(client)
    for item in listed:
        if item.integration_id == integration_id:
            return item
    known = ", ".join(_describe(i) for i in listed) or "none"
    raise UsageProblem(
        f"Gong has no integration {integration_id} (it lists: {known}).",
        hint="See `ldjfix integrations list`.",
    )


def delete_integration(
    client: GongClient,
    integration_id: int,
    *,
    client_request_id: str | None = None,
    wait: bool = True,
    timeout: float = 3600.0,
    on_poll: Callable[[Status], None] | None = None,
) -> tuple[str, Status | None]:
    """Ask Gong to delete the integration; poll the deletion until DONE/FAILED when ``wait``.

    Returns the clientRequestId the deletion goes by and its final status (None without wait).
    """
    crid = client_request_id or new_client_request_id("ldjfix-delete")
    receipt = client.delete_integration(integration_id=integration_id, client_request_id=crid)
    if not wait:
        return receipt.client_request_id, None
    try:
        status = client.wait_for_status(
            integration_id=integration_id,
            client_request_id=receipt.client_request_id,
            timeout=timeout,
            on_poll=on_poll,
        )
    except RemoteProblem as exc:
        raise RemoteProblem(
            f"{exc.message.rstrip('.')}. The deletion goes on at Gong (it can take up to 24 h).",
            hint=f"Check it later with `ldjfix status --integration-id {integration_id} "
            f"--client-request-id {receipt.client_request_id}`.",
        ) from None
    return receipt.client_request_id, status


def _describe(item: Integration) -> str:
    name = f" {item.name!r}" if item.name else ""
    owner = f" (owner {item.owner_email})" if item.owner_email else ""
    return f"integration {item.integration_id}{name}{owner}"


def _listed_quietly(client: GongClient) -> list[Integration]:
    try:
        return list_integrations(client)
    except RemoteProblem:  # the 409 already says enough; the list only names the culprit
        return []
