"""A real SMTP server that stores every delivered message as one `.eml` file."""

from __future__ import annotations

import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from .infra import free_port


class _Handler:
    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / (name + ".tmp")
        content = envelope.original_content or envelope.content
        tmp.write_bytes(content if isinstance(content, bytes) else content.encode())
        tmp.rename(self.directory / name)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, directory: Path, port: int = 0, host: str = "127.0.0.1"):
        self.directory = directory
        self.host = host
        self._controller = Controller(_Handler(directory), hostname=host, port=port or free_port())

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def messages(self) -> list[EmailMessage]:
        files = sorted(self.directory.glob("*.eml"))
        return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
