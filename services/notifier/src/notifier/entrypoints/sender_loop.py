"""Background loop that drains due deliveries: woken when an event is recorded, else polling
(a delayed or retried delivery becomes due with time, not with a message)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from notifier.application.sending import Sender

log = structlog.get_logger("notifier.sender")


class SenderLoop:
    def __init__(self, sender: Sender, batch_size: int, poll_interval: float):
        self.sender = sender
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.wake = asyncio.Event()
        self.stopping = False

    def notify(self) -> None:
        self.wake.set()

    def finish_current_batch(self) -> None:
        """Claim nothing more; the attempts in flight complete (a graceful stop)."""
        self.stopping = True
        self.wake.set()

    async def run(self) -> None:
        while not self.stopping:
            try:
                claimed = await self.sender.send_due(self.batch_size)
            except Exception as exc:
                log.error("sender_loop_error", error=repr(exc))
                claimed = 0
            if claimed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_interval)
            self.wake.clear()
