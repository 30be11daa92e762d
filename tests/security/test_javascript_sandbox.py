"""The hostile battery in JavaScript: Node programs attacking the sandbox they run in.

Each attack runs as a plain Node program under the limits JavaScript challenges get
(RLIMIT_DATA as the memory control, docs/architecture.md "Languages") and asserts the
layer that contained it: the process limit, the data limit, the output caps, seccomp and
the empty network namespace, the private /proc and filesystem, the tmpfs size, the CPU
limit. The graded side (hidden-test exfiltration through Node's own primitives) is in
test_javascript_leaks.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import textwrap
from collections.abc import Iterator

import pytest

from quizzes.grading.languages.javascript import NODE, JavaScriptLanguage
from quizzes.grading.sandbox import Limits, SandboxRun, run_sandboxed
from tests.security.conftest import (
    HOSTILE_LIMITS,
    output,
    requires_root,
    slot_uid,
    wait_no_processes,
)

pytestmark = pytest.mark.sandbox

# A slot of its own (not the Python battery's), so that batteries of other languages
# running at the same time cannot share its process limit or its leftovers check.
NODE_SLOT = 11

NODE_LIMITS = dataclasses.replace(HOSTILE_LIMITS, memory_rlimit="data")
FAR_WALL = dataclasses.replace(NODE_LIMITS, wall_seconds=30.0)
OOM_MARKERS = JavaScriptLanguage.out_of_memory_markers


def run_node(code: str, *, limits: Limits = NODE_LIMITS) -> SandboxRun:
    """Run a JavaScript program (dedented) at /sandbox/prog.js in a fresh sandbox."""
    program = textwrap.dedent(code).encode()
    return run_sandboxed(
        files={"prog.js": program}, argv=[NODE, "/sandbox/prog.js"], limits=limits,
        slot=NODE_SLOT,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _no_leftovers(_sandbox_works: None) -> Iterator[None]:
    """After every run, nothing of this battery's slot may remain on the host."""
    yield
    if os.geteuid() == 0:
        assert wait_no_processes(slot_uid(NODE_SLOT)) == []


def printed(run: SandboxRun) -> dict[str, object]:
    lines = output(run).strip().splitlines()
    assert lines, (run.exit_code, run.stderr[-500:])
    result = json.loads(lines[-1])
    assert isinstance(result, dict)
    return result


# --------------------------------------------------------------------------- processes


def test_a_spawn_bomb_is_stopped_by_the_process_limit() -> None:
    run = run_node(
        """
        const cp = require('child_process');
        let started = 0, failed = null;
        for (let i = 0; i < 500; i++) {
          const child = cp.spawn('/usr/bin/sleep', ['30'], { stdio: 'ignore' });
          child.on('error', (error) => { failed = failed || error.code; });
          if (child.pid === undefined) break;
          started++;
        }
        setImmediate(() => { console.log(JSON.stringify({ started, failed })); process.exit(0); });
        """,
        limits=FAR_WALL,
    )
    result = printed(run)
    assert result["failed"] == "EAGAIN"
    assert 0 < int(str(result["started"])) < NODE_LIMITS.max_processes
    assert not run.timed_out  # spawning failed on its own: the process limit


@requires_root
def test_detached_children_do_not_outlive_the_run() -> None:
    run = run_node(
        """
        const cp = require('child_process');
        for (let i = 0; i < 5; i++) {
          cp.spawn('/usr/bin/sleep', ['60'], { detached: true, stdio: 'ignore' }).unref();
        }
        console.log(JSON.stringify({ spawned: 5 }));
        """,
        limits=FAR_WALL,
    )
    assert printed(run) == {"spawned": 5}
    assert not run.timed_out
    assert wait_no_processes(slot_uid(NODE_SLOT)) == []


def test_child_processes_cannot_leave_the_namespaces() -> None:
    run = run_node(
        """
        const cp = require('child_process');
        const out = {};
        for (const [name, argv] of Object.entries({
          unshare: ['/usr/bin/unshare', '--user', '--net', '/usr/bin/true'],
          nsenter: ['/usr/bin/nsenter', '--target', '1', '--net', '/usr/bin/true'],
        })) {
          const done = cp.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
          out[name] = done.error ? done.error.code : done.status;
        }
        out.uid = process.getuid();
        console.log(JSON.stringify(out));
        """
    )
    result = printed(run)
    assert result["unshare"] not in (0, None), result
    assert result["nsenter"] not in (0, None), result
    assert result["uid"] == 65534


# --------------------------------------------------------------------------- memory


@pytest.mark.parametrize(
    "allocation",
    [
        "new Array(1 << 20).fill(i)",  # the V8 heap
        "Buffer.alloc(16 << 20, 1)",  # ArrayBuffers, outside the heap
        "new Float64Array(2 << 20).fill(1)",
        "Buffer.alloc(1 << 24, 97 + (i % 26)).toString('latin1')",  # flat strings
    ],
)
def test_memory_bombs_hit_the_data_limit(allocation: str) -> None:
    run = run_node(
        f"""
        const blocks = [];
        let total = 0;
        try {{
          for (let i = 0; ; i++) {{
            blocks.push({allocation});
            total += 16;
          }}
        }} catch (error) {{
          console.log(JSON.stringify({{ caught: String(error.message), mib: total }}));
        }}
        """,
        limits=FAR_WALL,
    )
    assert not run.timed_out  # stopped by memory, long before the wall clock
    if run.exit_code == 0:  # a RangeError the program saw
        result = printed(run)
        assert int(str(result["mib"])) < NODE_LIMITS.memory_mb
    else:  # V8 gave up: a fatal out-of-memory abort the grader recognises
        assert run.signal == signal.SIGABRT, (run.exit_code, run.stderr[:300])
        assert any(marker in run.stderr for marker in OOM_MARKERS), run.stderr[:300]


def test_one_huge_allocation_fails_cleanly() -> None:
    run = run_node(
        """
        try {
          const big = Buffer.alloc(4 * 1024 ** 3);
          console.log(JSON.stringify({ allocated: big.length }));
        } catch (error) {
          console.log(JSON.stringify({ caught: error.constructor.name }));
        }
        """
    )
    assert printed(run) == {"caught": "RangeError"}


# --------------------------------------------------------------------------- output, cpu


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_infinite_output_is_capped_and_the_run_stopped(stream: str) -> None:
    run = run_node(
        f"""
        const chunk = 'x'.repeat(65536);
        for (;;) process.{stream}.write(chunk);
        """,
        limits=FAR_WALL,
    )
    captured = run.stdout if stream == "stdout" else run.stderr
    assert not run.timed_out
    assert len(captured) <= NODE_LIMITS.max_output_bytes
    if not run.output_truncated:
        # Node queues writes the pipe cannot take yet: when it queues faster than the
        # worker drains, the data limit ends it before the cap does.
        assert run.signal in (signal.SIGSEGV, signal.SIGABRT), run


def test_infinite_output_on_the_result_channel_is_capped() -> None:
    run = run_node(
        """
        const fs = require('fs');
        const fd = Number(process.env.SKILLMAP_RESULT_FD);
        const chunk = Buffer.alloc(65536, 120);
        for (;;) fs.writeSync(fd, chunk);
        """
    )
    assert run.output_truncated
    assert len(run.result) == NODE_LIMITS.max_result_bytes


def test_a_cpu_loop_is_killed_by_the_cpu_limit() -> None:
    limits = dataclasses.replace(FAR_WALL, cpu_seconds=1.0)
    run = run_node("for (;;) {}\n", limits=limits)
    assert run.signal == signal.SIGXCPU
    assert not run.timed_out


def test_a_pending_timer_is_killed_at_the_wall_clock() -> None:
    run = run_node("setTimeout(() => {}, 3600 * 1000);\n")
    assert run.timed_out
    assert run.exit_code is None and run.signal == signal.SIGKILL


# --------------------------------------------------------------------------- files, secrets


def test_filling_tmp_hits_the_tmpfs_size() -> None:
    run = run_node(
        """
        const fs = require('fs');
        let written = 0;
        const chunk = Buffer.alloc(1 << 20, 120);
        try {
          for (let i = 0; i < 1000; i++) {
            const fd = fs.openSync('/tmp/f' + i, 'w');
            for (let j = 0; j < 4; j++) { fs.writeSync(fd, chunk); written += chunk.length; }
            fs.closeSync(fd);
          }
        } catch (error) {
          console.log(JSON.stringify({ code: error.code, written }));
        }
        """
    )
    result = printed(run)
    assert result["code"] == "ENOSPC"
    assert int(str(result["written"])) <= NODE_LIMITS.tmpfs_mb * 1024 * 1024


def test_a_huge_file_hits_the_file_size_limit() -> None:
    run = run_node(
        """
        const fs = require('fs');
        const fd = fs.openSync('/tmp/big', 'w');
        let written = 0;
        const chunk = Buffer.alloc(65536, 120);
        try {
          for (;;) { fs.writeSync(fd, chunk); written += chunk.length; }
        } catch (error) {
          console.log(JSON.stringify({ code: error.code, written }));
        }
        """
    )
    result = printed(run)
    assert result["code"] == "EFBIG"
    assert int(str(result["written"])) <= NODE_LIMITS.max_file_bytes


def test_secrets_and_the_host_are_out_of_reach() -> None:
    run = run_node(
        """
        const fs = require('fs');
        const out = { env: Object.keys(process.env).sort() };
        for (const path of ['/proc/1/environ', '/proc/self/environ', '/etc/shadow', '/root',
                            '/home', '/work', '/var/lib/skillmap', '/proc/1/root/etc/hostname']) {
          try {
            const text = fs.statSync(path).isDirectory()
              ? fs.readdirSync(path).join(',') : fs.readFileSync(path, 'latin1');
            out[path] = text.slice(0, 200);
          } catch (error) {
            out[path] = error.code;
          }
        }
        out.pids = fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).length;
        try { fs.writeFileSync('/usr/bin/node', 'x'); out.write = 'WROTE'; }
        catch (error) { out.write = error.code; }
        try { fs.writeFileSync('/sandbox/harness.js', 'x'); out.sandbox = 'WROTE'; }
        catch (error) { out.sandbox = error.code; }
        console.log(JSON.stringify(out));
        """
    )
    result = printed(run)
    assert result["env"] == ["LANG", "PATH", "PWD", "SKILLMAP_RESULT_FD"]  # PWD: bwrap's
    for path in ("/etc/shadow", "/root", "/home", "/work", "/var/lib/skillmap"):
        assert result[path] == "ENOENT", (path, result[path])
    # pid 1 is bwrap's reaper inside the sandbox: its environment is empty.
    assert result["/proc/1/environ"] in ("", "EACCES")
    assert "SECRET" not in json.dumps(result)
    assert int(str(result["pids"])) <= 3  # the sandbox's own pid namespace
    assert result["write"] in ("EROFS", "EACCES")
    assert result["sandbox"] in ("EROFS", "EACCES")


# --------------------------------------------------------------------------- network


def test_no_network_from_node() -> None:
    run = run_node(
        """
        const net = require('net');
        const dgram = require('dgram');
        const out = {};
        const targets = [['127.0.0.1', 5432], ['127.0.0.1', 6379], ['1.1.1.1', 53]];
        let pending = targets.length + 1;
        const finish = () => { if (--pending === 0) console.log(JSON.stringify(out)); };
        for (const [host, port] of targets) {
          const socket = net.connect({ host, port, timeout: 1000 });
          const seen = (what) => { out[host + ':' + port] = what; socket.destroy(); finish(); };
          socket.on('connect', () => seen('CONNECTED'));
          socket.on('error', (error) => seen(error.code));
          socket.on('timeout', () => seen('TIMEOUT'));
        }
        try {
          const udp = dgram.createSocket('udp4');
          udp.on('error', (error) => { out.udp = error.code; finish(); });
          udp.send(Buffer.alloc(12), 53, '1.1.1.1', (error) => {
            out.udp = error ? error.code : 'SENT'; finish();
          });
        } catch (error) {
          out.udp = error.code; finish();
        }
        """
    )
    result = printed(run)
    assert len(result) == 4, result
    for target, code in result.items():
        assert code in ("EPERM", "EACCES", "ENETUNREACH"), (target, code)
