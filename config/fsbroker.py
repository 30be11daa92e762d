"""The embedded broker: kombu's filesystem transport, made safe against partial files.

kombu's own transport creates each message file under its final name and then writes
into it, so a worker listing the folder can pick up an empty or half-written file; the
JSON decode error then escapes the consumer and the worker exits. Here:

- a message is written under a temporary name that the consumers never match (it does
  not end in ``.<queue>.msg``) and moved into place with ``os.replace``, so a message file
  is either absent or complete;
- a consumer claims a file by renaming it into ``claim_folder`` (one rename wins, on the
  same filesystem), and a file that still cannot be decoded (left by a crashed writer, a
  full disk, or dropped there by hand) is moved to ``corrupt_folder`` with a warning
  instead of stopping the worker.

A consumer with every prefetch slot taken (late acks, prefetch 1 per slot) cannot fetch,
and kombu's loop then sleeps a whole polling interval, even if a slot frees a millisecond
later. Here a settled delivery (ack or reject, from whichever thread) wakes that sleep,
so the next message is fetched as soon as a slot is free; an empty queue is still polled
every interval. Prefetch and acknowledgement are unchanged (docs/architecture.md).

Django-free: web, worker and beat load it through ``CELERY_BROKER_TRANSPORT``. Messages
taken by a worker that is then killed are lost, as before; the grading sweeper sends
their submissions again (quizzes/pipeline/grading.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".incoming-"


class QoS(virtual.QoS):
    """kombu's prefetch accounting; settling a delivery frees a slot, which wakes the
    consumer's polling sleep (``Transport.drain_events``)."""

    def ack(self, delivery_tag: Any) -> None:
        super().ack(delivery_tag)
        _slot_freed(self.channel.connection)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        super().reject(delivery_tag, requeue=requeue)
        _slot_freed(self.channel.connection)


def _slot_freed(transport: Any) -> None:
    if isinstance(transport, Transport):
        transport.slot_freed()


class Channel(filesystem.Channel):
    """Atomic writes, claims by rename, and quarantine for files that cannot be read."""

    QoS = QoS

    # The stubs of kombu's base class and of its filesystem channel name the argument
    # differently; this matches the filesystem channel, which it replaces.
    def _put(  # type: ignore[override]
        self, queue: str, payload: dict[str, Any], **kwargs: Any
    ) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        final = os.path.join(folder, name)
        # Same folder, so the rename stays on one filesystem; the prefix keeps it out of
        # every consumer's pattern (`<stamp>_<uuid>.<queue>.msg`) until it is complete.
        temporary = os.path.join(folder, TEMP_PREFIX + name + ".tmp")
        try:
            with open(temporary, "wb") as f:
                f.write(dumps(payload).encode())
            os.replace(temporary, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        wanted = f"{queue}.msg"
        folder = self.data_folder_in
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self.claim_folder, name)
            try:
                os.rename(os.path.join(folder, name), claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            except OSError as exc:
                raise ChannelError(f"Cannot claim file {name!r} from queue") from exc
            try:
                with open(claimed, "rb") as f:
                    raw = f.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue") from exc
            payload, problem = self._decode(raw)
            if problem:
                self._quarantine(claimed, name, problem)
                continue
            if not self.store_processed:
                os.remove(claimed)
            return payload
        raise Empty()

    def _decode(self, raw: bytes) -> tuple[Any, str]:
        """The payload in ``raw``, or why it is not a message this channel can deliver."""
        if not raw:
            return None, "empty file"
        try:
            payload = loads(raw.decode())
        except (UnicodeDecodeError, ValueError) as exc:
            return None, f"not JSON: {exc}"
        if not isinstance(payload, dict):
            return None, f"not a message: a JSON {type(payload).__name__}"
        try:
            # What the consumer will do with it next: a message that cannot even be built
            # would stop the worker just as a decode error does.
            if not isinstance(payload["properties"]["delivery_info"], dict):
                raise TypeError("delivery_info is not an object")
            self.Message(payload, channel=self)
        except Exception as exc:
            return None, f"not a message: {type(exc).__name__}: {exc}"
        return payload, ""

    def _quarantine(self, claimed: str, name: str, problem: str) -> None:
        target = os.path.join(self.corrupt_folder, name)
        try:
            os.makedirs(self.corrupt_folder, exist_ok=True)
            os.replace(claimed, target)
        except OSError:
            logger.warning("broker: dropped unreadable message %s (%s)", name, problem)
            with contextlib.suppress(OSError):
                os.unlink(claimed)
            return
        logger.warning("broker: moved unreadable message %s to %s (%s)", name, target, problem)

    @cached_property
    def claim_folder(self) -> str:
        if self.store_processed:
            return str(self.processed_folder)
        default = Path(self.data_folder_in).parent / "claimed"
        folder = str(self.transport_options.get("claim_folder", default))
        os.makedirs(folder, exist_ok=True)
        return folder

    @cached_property
    def corrupt_folder(self) -> str:
        default = Path(self.data_folder_in).parent / "corrupt"
        return str(self.transport_options.get("corrupt_folder", default))


class Transport(filesystem.Transport):
    """kombu's filesystem transport with the channel above, whose polling sleep ends early
    when a delivery is settled."""

    Channel = Channel
    # Separate from kombu's own filesystem transport (its state is per class).
    global_state = virtual.BrokerState()

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self._settled = threading.Event()

    def slot_freed(self) -> None:
        self._settled.set()

    def drain_events(  # type: ignore[override]  # kombu's virtual transport's signature
        self, connection: Any, timeout: float | None = None
    ) -> None:
        """kombu's loop (virtual.Transport.drain_events), waiting on ``_settled`` instead
        of sleeping: cleared before each look, so a settle that lands between a fruitless
        look and the wait ends the wait at once."""
        time_start = monotonic()
        assert self.cycle is not None  # set up when the transport is created
        get = self.cycle.get
        polling_interval = self.polling_interval
        if timeout and polling_interval and polling_interval > timeout:
            polling_interval = timeout
        while True:
            self._settled.clear()
            try:
                get(self._deliver, timeout=timeout)
            except Empty:
                if timeout is not None and monotonic() - time_start >= timeout:
                    raise TimeoutError() from None  # socket.timeout, what Celery expects
                if polling_interval is not None:
                    self._settled.wait(polling_interval)
            else:
                break
