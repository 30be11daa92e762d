"""No network: seccomp refuses every non-AF_UNIX socket, and behind it the empty
network namespace has no route anywhere (tested with the seccomp layer relaxed)."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator

import pyseccomp
import pytest

from quizzes.grading import sandbox
from tests.security.conftest import host_port_open, output, run_program

pytestmark = pytest.mark.sandbox

CONNECT = """
import json, socket
results = {}
for host, port, kind in %r:
    family = socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
        sock.settimeout(1)
        if kind == "tcp":
            sock.connect((host, port))
        else:
            sock.sendto(b"\\x00" * 12, (host, port))
            sock.recvfrom(512)
        results["%%s:%%s/%%s" %% (host, port, kind)] = "CONNECTED"
    except OSError as exc:
        results["%%s:%%s/%%s" %% (host, port, kind)] = exc.errno
print(json.dumps(results))
"""

TARGETS = [
    ("127.0.0.1", 5432, "tcp"),  # PostgreSQL on the host
    ("127.0.0.1", 6379, "tcp"),  # Redis on the host
    ("1.1.1.1", 53, "tcp"),
    ("1.1.1.1", 53, "udp"),
]


@pytest.fixture
def seccomp_relaxed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Replace the seccomp allowlist with allow-all, to test the namespace layer alone."""
    import tempfile

    allow_all = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    with tempfile.TemporaryFile() as out:
        allow_all.export_bpf(out)
        out.seek(0)
        program = out.read()
    monkeypatch.setattr(sandbox, "seccomp_program", lambda: program)
    yield


def test_the_host_services_really_listen() -> None:
    # Otherwise the tests below would prove nothing.
    assert host_port_open(5432), "PostgreSQL is not listening on 127.0.0.1:5432"
    assert host_port_open(6379), "Redis is not listening on 127.0.0.1:6379"


def test_inet_sockets_are_refused_by_seccomp() -> None:
    run = run_program(CONNECT % (TARGETS,))
    results = json.loads(output(run))
    assert results == {f"{h}:{p}/{k}": errno.EPERM for h, p, k in TARGETS}


def test_without_seccomp_the_network_namespace_still_isolates(seccomp_relaxed: None) -> None:
    assert host_port_open(5432) and host_port_open(6379)
    run = run_program(CONNECT % (TARGETS,))
    results = json.loads(output(run))
    # Loopback exists but is the sandbox's own: nothing listens there.
    assert results["127.0.0.1:5432/tcp"] == errno.ECONNREFUSED
    assert results["127.0.0.1:6379/tcp"] == errno.ECONNREFUSED
    # No interface but lo, no route: nothing leaves.
    assert results["1.1.1.1:53/tcp"] == errno.ENETUNREACH
    assert results["1.1.1.1:53/udp"] == errno.ENETUNREACH


def test_interfaces_inside_are_only_loopback(seccomp_relaxed: None) -> None:
    run = run_program("import socket, json\nprint(json.dumps(socket.if_nameindex()))\n")
    assert [name for _, name in json.loads(output(run))] == ["lo"]


@pytest.mark.parametrize(
    ("family", "name"),
    [(40, "AF_VSOCK"), (16, "AF_NETLINK"), (17, "AF_PACKET"), (10, "AF_INET6"), (2, "AF_INET")],
)
def test_other_socket_families_are_refused(family: int, name: str) -> None:
    run = run_program(
        f"""
        import socket
        try:
            socket.socket({family}, socket.SOCK_RAW if {family} in (16, 17) else socket.SOCK_STREAM)
            print("OPENED")
        except OSError as exc:
            print(exc.errno)
        """
    )
    assert int(output(run)) in (errno.EPERM, errno.EAFNOSUPPORT), name


def test_unix_sockets_still_work_for_multiprocessing() -> None:
    run = run_program(
        """
        import socket
        a, b = socket.socketpair()
        a.sendall(b"ping")
        print(b.recv(4).decode())
        """
    )
    assert output(run).strip() == "ping"
