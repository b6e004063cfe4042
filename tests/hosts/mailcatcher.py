"""Real SMTP servers on loopback (aiosmtpd), one per host, that record every letter taken.

A listener can be told to stall: it then holds every DATA command without answering, so a
worker that sends through it is caught inside the SMTP conversation and nothing reaches
the server. A letter counts as delivered once the server has read its end of data.
"""

import asyncio
import threading
from collections import Counter
from email import message_from_bytes

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tests.hosts.cluster import free_port


class _Recorder:
    def __init__(self, catcher: "MailCatcher", name: str):
        self.catcher, self.name = catcher, name

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message_id = message_from_bytes(envelope.content)["Message-ID"]
        with self.catcher.lock:
            self.catcher.received.append((self.name, message_id, tuple(envelope.rcpt_tos)))
        return "250 OK"


class _Listener(Controller):
    """A controller whose SMTP sessions hold DATA while their listener stalls."""

    def __init__(self, catcher: "MailCatcher", name: str, port: int):
        super().__init__(_Recorder(catcher, name), hostname="127.0.0.1", port=port)
        self.catcher, self.name = catcher, name
        self.stall = threading.Event()  # set: DATA gets no answer
        self.stalled = threading.Event()  # set once a DATA command has been held

    def factory(self):
        return _StallingSMTP(self, self.handler, **self.SMTP_kwargs)


class _StallingSMTP(SMTP):
    def __init__(self, listener: _Listener, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.listener = listener

    async def smtp_DATA(self, arg):  # noqa: N802 - aiosmtpd's name
        if self.listener.stall.is_set():
            self.listener.stalled.set()
            while self.listener.stall.is_set():
                if self.transport is None or self.transport.is_closing():
                    return  # the client is gone: the letter was never taken
                await asyncio.sleep(0.05)
        return await super().smtp_DATA(arg)


class MailCatcher:
    """One listener per host name; `received` lists (listener, Message-ID, recipients)."""

    def __init__(self, names):
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, tuple]] = []
        self.listeners = {name: _Listener(self, name, free_port()) for name in names}

    def port(self, name: str) -> int:
        return self.listeners[name].port

    def start(self) -> "MailCatcher":
        for listener in self.listeners.values():
            listener.start()
        return self

    def stop(self) -> None:
        for listener in self.listeners.values():
            listener.stall.clear()
            listener.stop()

    def counts(self) -> Counter:
        """How many times each Message-ID was taken, over every listener."""
        with self.lock:
            return Counter(message_id for _, message_id, _ in self.received)
