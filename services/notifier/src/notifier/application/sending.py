"""Sending: due deliveries are claimed, resolved at send time, rendered and handed to SMTP.

Business rules:
- Nothing leaves before `send_after`; the delay lives in the delivery table.
- Everything an email says is looked up at send time: the portal (title, URL, language), the
  contact's *current* email, and a fresh one-time token from portal-config. A `conflict` on the
  token (invitation cancelled, member already active or revoked) cancels the delivery.
- Never twice for one event: the delivery is `sending` (committed) before the SMTP call and
  `sent` right after it. Only a crash between the SMTP server's acceptance and that commit
  repeats the email, with the same `Message-ID`.
- Failures are retried with exponential backoff; after `max_attempts` attempts, or for a
  failure no retry fixes, the delivery is `dead` (logged, counted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import structlog

from notifier.application.ports import (
    DeliveryCancelled,
    DeliveryRepository,
    Directory,
    EmailContent,
    Mailer,
    PermanentFailure,
    Renderer,
    SendHooks,
)
from notifier.domain.delivery import (
    TOKEN_PURPOSE,
    Delivery,
    DeliveryState,
    action_link,
    after_failure,
)
from notifier.domain.language import pick_language
from notifier.observability import metrics

log = structlog.get_logger("notifier.sending")


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    max_attempts: int
    lease_seconds: float


@dataclass
class Sender:
    repo: DeliveryRepository
    directory: Directory
    renderer: Renderer
    mailer: Mailer
    mail_from: str
    policy: RetryPolicy
    clock: Callable[[], datetime]
    hooks: SendHooks = field(default_factory=SendHooks)

    async def send_due(self, limit: int) -> int:
        """Claims up to `limit` due deliveries and attempts them concurrently."""
        now = self.clock()
        lease_until = now + timedelta(seconds=self.policy.lease_seconds)
        claimed = await self.repo.claim_due(now, lease_until, limit)
        if claimed:
            results = await asyncio.gather(
                *(self.attempt(d) for d in claimed), return_exceptions=True
            )
            for delivery, result in zip(claimed, results, strict=True):
                if isinstance(result, Exception):
                    log.error(
                        "delivery_attempt_crashed", event_id=delivery.event_id, error=repr(result)
                    )
        return len(claimed)

    async def attempt(self, delivery: Delivery) -> None:
        with structlog.contextvars.bound_contextvars(
            correlation_id=delivery.correlation_id,
            account_id=delivery.account_id,
            event_id=delivery.event_id,
            attempt=delivery.attempts,
        ):
            try:
                message, recipient = await self._compose(delivery)
                await self.hooks.before_smtp(delivery)
                with metrics.SEND_SECONDS.time():
                    await self.mailer.send(message)
            except DeliveryCancelled as exc:
                await self._finish(delivery, DeliveryState.CANCELLED, error=str(exc))
                metrics.CANCELLED.labels(delivery.kind.value).inc()
                log.info("delivery_cancelled", reason=str(exc))
                return
            except PermanentFailure as exc:
                await self._dead(delivery, f"permanent: {exc}")
                return
            except Exception as exc:
                await self._failed(delivery, exc)
                return
            await self.hooks.after_smtp(delivery)
            if not await self.repo.finish(
                delivery, DeliveryState.SENT, self.clock(), recipient=recipient
            ):
                log.warning("delivery_sent_after_lease_lost", message_id=delivery.message_id)
            metrics.SENT.labels(delivery.kind.value).inc()
            log.info("email_sent", kind=delivery.kind.value, message_id=delivery.message_id)

    async def _compose(self, delivery: Delivery) -> tuple[EmailMessage, str]:
        portal = await self.directory.portal(
            delivery.account_id, delivery.portal_id, delivery.correlation_id
        )
        link = expires_at = None
        purpose = TOKEN_PURPOSE.get(delivery.kind)
        if purpose is not None:
            token = await self.directory.issue_token(delivery, purpose)
            link, expires_at = action_link(portal.url, delivery.kind, token.token), token.expires_at
        contact = await self.directory.contact(
            delivery.account_id, delivery.contact_id, delivery.correlation_id
        )
        content = EmailContent(
            kind=delivery.kind,
            language=pick_language(portal.language, self.renderer.languages),
            portal_title=portal.title,
            recipient_email=contact.email,
            recipient_name=contact.name,
            link=link,
            link_expires_at=expires_at,
        )
        message = self.renderer.render(content, delivery.message_id, self.mail_from, self.clock())
        return message, contact.email

    async def _finish(
        self,
        delivery: Delivery,
        state: DeliveryState,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        await self.repo.finish(
            delivery, state, self.clock(), next_attempt_at=next_attempt_at, error=error
        )

    async def _dead(self, delivery: Delivery, error: str) -> None:
        await self._finish(delivery, DeliveryState.DEAD, error=error[:2000])
        metrics.DEAD.labels(delivery.kind.value).inc()
        log.error("delivery_dead", kind=delivery.kind.value, error=error)

    async def _failed(self, delivery: Delivery, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        metrics.FAILED.labels(delivery.kind.value).inc()
        now = self.clock()
        outcome = after_failure(
            delivery.attempts,
            now,
            self.policy.max_attempts,
            self.policy.base_seconds,
            self.policy.max_seconds,
        )
        if outcome.state is DeliveryState.DEAD:
            await self._dead(delivery, f"after {delivery.attempts} attempts: {error}")
            return
        await self._finish(
            delivery, outcome.state, next_attempt_at=outcome.next_attempt_at, error=error[:2000]
        )
        log.warning("delivery_attempt_failed", error=error, retry_at=outcome.next_attempt_at)
