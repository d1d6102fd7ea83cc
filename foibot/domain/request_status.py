"""A request's status, as far as sending knows it.

Interim: until the request lifecycle (status from events: acknowledged, responded,
overdue ...) exists, a request's status is derived from the send state of its request
message alone. Kept in this one pure function so that the lifecycle can replace it.
"""

from __future__ import annotations

# Outbox states of an outgoing message (foibot.services.outbox):
#   held (created, not released by `campaign send` yet) -> queued -> sending (claimed;
#   DATA not yet complete) -> final (everything but the terminating dot sent)
#   -> sent | delivery_failed | uncertain | queued (retry)
HELD = "held"
QUEUED = "queued"
SENDING = "sending"
FINAL = "final"
SENT = "sent"
DELIVERY_FAILED = "delivery_failed"
UNCERTAIN = "uncertain"
SEND_STATES = (HELD, QUEUED, SENDING, FINAL, SENT, DELIVERY_FAILED, UNCERTAIN)

REQUEST_STATUSES = ("queued", "awaiting_response", "delivery_failed", "uncertain")


def request_status(send_state: str | None) -> str:
    """held/queued/sending -> "queued"; sent -> "awaiting_response"; delivery_failed ->
    "delivery_failed"; uncertain -> "uncertain". A message in "final" (the terminating
    dot may or may not have reached the server) is "uncertain" too: its outcome is
    unknown at this moment, and if its sender died it is uncertain for good."""
    if send_state in (None, HELD, QUEUED, SENDING):
        return "queued"
    if send_state == SENT:
        return "awaiting_response"
    if send_state == DELIVERY_FAILED:
        return "delivery_failed"
    if send_state in (FINAL, UNCERTAIN):
        return "uncertain"
    raise ValueError(f"unknown send state {send_state!r}")
