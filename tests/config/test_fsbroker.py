"""The embedded broker never hands a consumer a partial or unreadable message file."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from kombu.transport import virtual

from config import fsbroker
from config.fsbroker import TEMP_PREFIX

QUEUE = Queue("work", Exchange("work"), routing_key="work")


def connection(folder: Path) -> Connection:
    return Connection(
        "filesystem://",
        transport="config.fsbroker:Transport",
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "claim_folder": str(folder / "claimed"),
            "corrupt_folder": str(folder / "corrupt"),
            "polling_interval": 0.01,
        },
    )


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The transport remembers declared bindings per process; each test has new folders.
    monkeypatch.setattr(fsbroker.Transport, "global_state", virtual.BrokerState())
    (tmp_path / "queue").mkdir()
    return tmp_path


def publish(conn: Connection, body: Any) -> None:
    conn.Producer().publish(
        body, exchange=QUEUE.exchange, routing_key="work", declare=[QUEUE], serializer="json"
    )


def take(conn: Connection) -> Any:
    """The next message's body, acknowledged; None when the queue is empty."""
    message = QUEUE(conn.default_channel).get(no_ack=False)
    if message is None:
        return None
    message.ack()
    return message.payload


def a_real_message(folder: Path) -> bytes:
    with connection(folder / "scratch") as conn:
        (folder / "scratch" / "queue").mkdir(parents=True)
        publish(conn, {"n": 0})
        [file] = (folder / "scratch" / "queue").glob("*.work.msg")
    fsbroker.Transport.global_state.clear()  # its binding lives in the scratch folder
    return file.read_bytes()


def drop(folder: Path, name: str, content: bytes) -> Path:
    path = folder / "queue" / f"{name}.work.msg"
    path.write_bytes(content)
    return path


def test_a_message_is_written_complete_under_its_final_name(folder: Path) -> None:
    with connection(folder) as conn:
        publish(conn, {"n": 1})
        files = list((folder / "queue").iterdir())
        assert [f.name.endswith(".work.msg") for f in files] == [True]
        assert json.loads(files[0].read_bytes())["properties"]["delivery_info"]
        assert take(conn) == {"n": 1}
        assert take(conn) is None
    assert list((folder / "queue").iterdir()) == []
    assert list((folder / "claimed").iterdir()) == []


def test_a_file_still_being_written_is_not_consumed(folder: Path) -> None:
    # How a message looks while this transport writes it: outside the consumed pattern.
    pending = folder / "queue" / f"{TEMP_PREFIX}1_x.work.msg.tmp"
    pending.write_bytes(b'{"half": ')
    with connection(folder) as conn:
        publish(conn, {"n": 2})
        assert take(conn) == {"n": 2}
        assert take(conn) is None
    assert pending.exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (None, "not JSON"),  # the first half of a real message
        (b"\x00\xff garbage \x89PNG", "not JSON"),
        (b'{"hello": "valid JSON, no message"}', "not a message"),
        (b"[1, 2]", "not a message"),
    ],
)
def test_an_unreadable_file_is_moved_aside_and_the_next_message_is_delivered(
    folder: Path, content: bytes | None, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    if content is None:
        real = a_real_message(folder)
        content = real[: len(real) // 2]
    drop(folder, "0_bad", content)
    with connection(folder) as conn, caplog.at_level(logging.WARNING, "config.fsbroker"):
        publish(conn, {"n": 3})
        assert take(conn) == {"n": 3}
        assert take(conn) is None
    assert [p.name for p in (folder / "corrupt").iterdir()] == ["0_bad.work.msg"]
    assert (folder / "corrupt" / "0_bad.work.msg").read_bytes() == content
    [record] = [r for r in caplog.records if r.name == "config.fsbroker"]
    assert "0_bad.work.msg" in record.getMessage() and problem in record.getMessage()


def test_two_consumers_never_get_the_same_message(folder: Path) -> None:
    count = 200
    with connection(folder) as conn:
        for n in range(count):
            publish(conn, {"n": n})
    seen: list[list[int]] = [[], []]

    def consume(mine: list[int]) -> None:
        with connection(folder) as conn:
            while (body := take(conn)) is not None:
                mine.append(body["n"])

    threads = [threading.Thread(target=consume, args=(mine,)) for mine in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen[0] + seen[1]) == list(range(count))


def test_a_settled_delivery_wakes_a_consumer_whose_slots_were_full(folder: Path) -> None:
    # A polling interval far longer than the test: only the wake-up can deliver in time.
    with (
        Connection(
            "filesystem://",
            transport="config.fsbroker:Transport",
            transport_options={
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "control_folder": str(folder / "control"),
                "claim_folder": str(folder / "claimed"),
                "polling_interval": 30.0,
            },
        ) as conn,
        conn.channel() as channel,
    ):
        channel.basic_qos(prefetch_size=0, prefetch_count=1, apply_global=False)
        received: list[Any] = []
        consumer = conn.Consumer(
            QUEUE, channel=channel, callbacks=[lambda b, m: received.append(m)]
        )
        consumer.consume()
        publish(conn, {"n": 1})
        publish(conn, {"n": 2})
        conn.drain_events(timeout=5)
        assert len(received) == 1  # either one: both were written within a millisecond
        # The one slot is taken: the consumer cannot fetch {"n": 2} and waits. Another
        # thread (as Celery's pool result handler does) acknowledges the first message.
        acker = threading.Timer(0.2, received[0].ack)
        started = time.monotonic()
        acker.start()
        # kombu's own loop would sleep the whole interval (capped at the timeout) first.
        conn.drain_events(timeout=15)
        waited = time.monotonic() - started
        acker.join()
        assert sorted(m.payload["n"] for m in received) == [1, 2]
        assert waited < 5, f"delivered {waited:.1f} s after the slot freed"
