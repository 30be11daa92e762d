"""The hostile battery in Java: every attack graded as a real Java submission.

Each attack is the body of ``Solution.probe(int x)``, graded through ``grade_code`` with
the production JVM flags and limits (quizzes/grading/languages/java.py); what the attack
observed comes back as the visible test's actual value, and the test asserts the layer
that contained it (docs/architecture.md, "Java").

The second half reruns the hidden-test exfiltration battery of
test_hidden_test_leaks.py with Java's own primitives (System.setOut, custom exception
classes, getMessage/toString overrides, System.exit codes, static initialisers, threads
that write after their test, reflection on the harness), differential as there: two
challenges one bit apart in one hidden input, compared byte for byte as the learner
sees them.
"""

from __future__ import annotations

import subprocess
import textwrap
import time

import pytest

from quizzes.grading.languages import language
from quizzes.grading.outcomes import ReportStatus
from quizzes.grading.runner import GradeReport, TestOutcome, grade_code
from quizzes.grading.spec import CodeChallengeSpec, spec_from_dict
from tests.security.conftest import SECURITY_SLOT
from tests.security.test_hidden_test_leaks import SECRETS, assert_nothing_but_pass_fail

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        not language("java").available(), reason="no JDK 17 (make system-deps-test)"
    ),
]

PROBE_SPEC = spec_from_dict(
    "code",
    {
        "entry_point": "probe",
        "kind": "function",
        # Generous, so that a loaded machine cannot turn a contained attack into a timeout.
        "time_limit": 4,
        "memory_limit_mb": 128,
        "signature": {"params": [{"name": "x", "type": "int"}], "returns": "string"},
        "tests": [{"name": "probe", "visible": True, "args": [1], "expect": "contained"}],
    },
)
assert isinstance(PROBE_SPEC, CodeChallengeSpec)

PROBE_PREFIX = """\
import java.io.*;
import java.net.*;
import java.nio.file.*;
import java.util.*;

class Solution {
    static String probe(int x) throws Exception {
"""


def grade_java(spec: CodeChallengeSpec, source: str) -> GradeReport:
    return grade_code(spec, source, language="java", slot=SECURITY_SLOT)


def probe(body: str, helpers: str = "") -> tuple[GradeReport, TestOutcome]:
    """Grade ``body`` as probe()'s body; the report and its one (visible) outcome."""
    source = (
        PROBE_PREFIX
        + textwrap.indent(textwrap.dedent(body), " " * 8)
        + "    }\n"
        + textwrap.indent(textwrap.dedent(helpers), " " * 4)
        + "}\n"
    )
    report = grade_java(PROBE_SPEC, source)
    assert report.status == ReportStatus.GRADED, report
    return report, report.outcomes[0]


def observed(outcome: TestOutcome) -> str:
    assert outcome.category == "wrong_answer", outcome
    return outcome.actual_repr or ""


# --------------------------------------------------------------------------- processes


def test_thread_bomb_is_stopped_by_the_process_limit() -> None:
    _, outcome = probe(
        """
        int started = 0;
        try {
            while (true) {
                Thread thread = new Thread(() -> {
                    try { Thread.sleep(30_000); } catch (InterruptedException e) { }
                });
                thread.setDaemon(true);
                thread.start();
                started++;
            }
        } catch (OutOfMemoryError e) {
            return "stopped after " + started + ": " + e.getMessage();
        }
        """
    )
    text = observed(outcome)
    assert "unable to create native thread" in text
    started = int(text.split()[2].rstrip(":"))
    limits = language("java").limits(PROBE_SPEC)
    assert 0 < started < limits.max_processes
    assert subprocess.run(["/bin/true"], check=False).returncode == 0


def test_process_bomb_with_process_builder_is_contained() -> None:
    _, outcome = probe(
        """
        int started = 0;
        try {
            while (true) {
                new ProcessBuilder("/usr/bin/sleep", "30").start();
                started++;
            }
        } catch (IOException e) {
            return "stopped after " + started + ": " + e.getMessage();
        }
        """
    )
    text = observed(outcome)
    assert text.startswith('"stopped after')
    assert "Too many open files" in text or "Resource temporarily unavailable" in text
    # Nothing of the run outlives it (the autouse fixture checks the slot's processes).


def test_runtime_exec_runs_only_inside_the_sandbox() -> None:
    _, outcome = probe(
        """
        Process shell = Runtime.getRuntime().exec(new String[] {
            "/bin/sh", "-c", "id -u; ls /; cat /proc/1/environ | tr '\\\\0' ' '; ls /home /root"});
        return new String(shell.getInputStream().readAllBytes())
            + new String(shell.getErrorStream().readAllBytes());
        """
    )
    text = observed(outcome)
    assert text.startswith('"65534\\n')
    root = set(text.split("\\n")[1:12])
    assert {"usr", "tmp", "sandbox", "proc"} <= root
    assert not root & {"home", "root", "var", "work", "srv"}
    for secret in ("SECRET_KEY", "DATABASE_URL", "PASSWORD", "CELERY"):
        assert secret not in text


# --------------------------------------------------------------------------- secrets


def test_environment_and_proc_hold_no_secrets() -> None:
    _, outcome = probe(
        """
        StringBuilder seen = new StringBuilder(System.getenv().keySet().toString());
        for (String path : new String[] {"/etc/passwd", "/etc/shadow", "/root", "/work",
                "/proc/1/environ", "/proc/self/environ"}) {
            try {
                seen.append(" ").append(path).append("=")
                    .append(new String(Files.readAllBytes(Path.of(path))).replace('\\0', ' '));
            } catch (IOException e) {
                seen.append(" ").append(path).append(":").append(e.getClass().getSimpleName());
            }
        }
        return seen.toString();
        """
    )
    text = observed(outcome)
    names = text[text.index("[") + 1 : text.index("]")].split(", ")
    assert set(names) <= {"PATH", "LANG", "PWD", "SKILLMAP_RESULT_FD", "MALLOC_ARENA_MAX"}
    for secret in ("SECRET_KEY", "DATABASE_URL", "PASSWORD", "REDIS", "CELERY", "AWS"):
        assert secret not in text
    for path in ("/etc/passwd", "/etc/shadow", "/root", "/work"):
        assert f"{path}:NoSuchFileException" in text


def test_the_harness_classes_are_not_reachable_by_name() -> None:
    _, outcome = probe(
        """
        try {
            Class.forName("Harness");
            return "reachable";
        } catch (ClassNotFoundException e) {
            return "not reachable";
        }
        """
    )
    assert observed(outcome) == '"not reachable"'


# --------------------------------------------------------------------------- memory


def test_heap_bomb_is_reported_as_memory_limit() -> None:
    _, outcome = probe(
        """
        List<long[]> hog = new ArrayList<>();
        while (true) {
            hog.add(new long[1 << 20]);
        }
        """
    )
    assert outcome.category == "memory_limit"


def test_native_memory_bomb_hits_the_data_limit() -> None:
    _, outcome = probe(
        """
        Class<?> type = Class.forName("sun.misc.Unsafe");
        java.lang.reflect.Field field = type.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) field.get(null);
        long mib = 0;
        try {
            while (true) {
                long address = unsafe.allocateMemory(16 << 20);
                unsafe.setMemory(address, 16 << 20, (byte) 1);
                mib += 16;
            }
        } catch (OutOfMemoryError e) {
            return "stopped after " + mib;
        }
        """
    )
    text = observed(outcome)
    mib = int(text.strip('"').split()[-1])
    limits = language("java").limits(PROBE_SPEC)
    assert limits.memory_rlimit == "data"
    assert 0 < mib < limits.memory_mb


def test_direct_buffers_are_capped() -> None:
    _, outcome = probe(
        """
        List<java.nio.ByteBuffer> buffers = new ArrayList<>();
        try {
            while (true) {
                buffers.add(java.nio.ByteBuffer.allocateDirect(1 << 20));
            }
        } catch (OutOfMemoryError e) {
            return "stopped after " + buffers.size();
        }
        """
    )
    assert int(observed(outcome).strip('"').split()[-1]) <= 32


# --------------------------------------------------------------------------- output, files


def test_infinite_output_is_cut_off() -> None:
    _, outcome = probe(
        """
        while (true) {
            System.out.println("spam spam spam spam spam spam spam spam");
        }
        """
    )
    assert outcome.category == "output_limit"


def test_filling_tmp_hits_the_tmpfs_size() -> None:
    _, outcome = probe(
        """
        long mib = 0;
        try {
            for (int i = 0; ; i++) {
                try (OutputStream out = new FileOutputStream("/tmp/fill" + i)) {
                    for (int k = 0; k < 4; k++) {
                        out.write(new byte[1 << 20]);
                        mib++;
                    }
                }
            }
        } catch (IOException e) {
            return e.getMessage() + " after " + mib;
        }
        """
    )
    text = observed(outcome)
    assert "No space left on device" in text
    limits = language("java").limits(PROBE_SPEC)
    assert int(text.strip('"').split()[-1]) <= limits.tmpfs_mb


def test_the_sandbox_and_the_toolchain_are_read_only() -> None:
    _, outcome = probe(
        """
        StringBuilder seen = new StringBuilder();
        for (String path : new String[] {"/sandbox/Solution.java", "/opt/skillmap-java/x",
                "/usr/lib/jvm/x", "/etc/java-17-openjdk/security/java.security"}) {
            try (OutputStream out = new FileOutputStream(path)) {
                seen.append(path).append(" written; ");
            } catch (IOException e) {
                seen.append(path).append(" refused; ");
            }
        }
        return seen.toString();
        """
    )
    text = observed(outcome)
    assert "written" not in text
    assert text.count("refused") == 4


# --------------------------------------------------------------------------- network


def test_no_network() -> None:
    _, outcome = probe(
        """
        String seen;
        try (Socket socket = new Socket("127.0.0.1", 5432)) {
            seen = "connected";
        } catch (IOException e) {
            seen = "socket refused";
        }
        try {
            InetAddress.getByName("example.com");
            return seen + ", resolved";
        } catch (UnknownHostException e) {
            return seen + ", no DNS";
        }
        """
    )
    assert observed(outcome) == '"socket refused, no DNS"'


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize(
    "body",
    [
        "while (true) { }",
        # ThreadDeath swallowed: the harness cannot stop it; the CPU limit ends the run.
        "while (true) { try { while (true) { } } catch (Throwable t) { } }",
    ],
    ids=["loop", "loop that swallows ThreadDeath"],
)
def test_endless_loops_time_out(body: str) -> None:
    started = time.monotonic()
    _, outcome = probe(body)
    assert outcome.category == "timeout"
    limits = language("java").limits(PROBE_SPEC)
    assert time.monotonic() - started < limits.wall_seconds + 5


def test_deep_recursion_is_a_stack_overflow() -> None:
    _, outcome = probe(
        "return String.valueOf(down(0));",
        "static int down(int n) {\n    return down(n + 1) + 1;\n}\n",
    )
    assert (outcome.category, outcome.exception_type) == ("exception", "StackOverflowError")


def test_endless_static_initialiser_is_a_load_timeout() -> None:
    source = (
        PROBE_PREFIX
        + '        return "";\n    }\n    static int n;\n'
        + "    static { while (n >= 0) { n |= 1; } }\n}\n"
    )
    report = grade_java(PROBE_SPEC, source)
    assert report.status == ReportStatus.COMPILE_ERROR
    assert report.message == "Loading your code took too long."


# --------------------------------------------------------------------------- compiling


def test_compile_errors_name_the_learners_own_lines() -> None:
    source = PROBE_PREFIX + '        int y = "text";\n        return missing;\n    }\n}\n'
    report = grade_java(PROBE_SPEC, source)
    assert report.status == ReportStatus.COMPILE_ERROR
    assert report.message.startswith("Compile error on line 8: incompatible types")
    assert "line 9: cannot find symbol" in report.message


@pytest.mark.parametrize(
    "source",
    [
        # Constant folding doubles a string 40 times: the compiler runs out of memory,
        # or of time, inside the run's limits.
        'class Solution {\n    static final String S0 = "abcdefgh";\n'
        + "".join(f"    static final String S{i} = S{i - 1} + S{i - 1};\n" for i in range(1, 41))
        + "    static String probe(int x) { return S40; }\n}\n",
        # Nesting deep enough to overflow the compiler's stack.
        "class Solution {\n    static String probe(int x) { return String.valueOf("
        + "(" * 20000
        + "x"
        + ")" * 20000
        + "); }\n}\n",
    ],
    ids=["string constants doubled 40 times", "20000 nested parentheses"],
)
def test_hostile_compiles_are_contained(source: str) -> None:
    started = time.monotonic()
    report = grade_java(PROBE_SPEC, source)
    assert report.status == ReportStatus.COMPILE_ERROR, report
    limits = language("java").limits(PROBE_SPEC)
    assert time.monotonic() - started < limits.wall_seconds + 5
    # The harness reports a compile that fails or overruns its deadline; one that
    # exhausts the CPU limit first ends the run, which is reported as not loading.
    assert report.message.startswith(
        ("Compile error", "The compiler", "Compiling your code", "Loading your code took")
    )


# =========================================================================== exfiltration


def double_spec(secret: int) -> CodeChallengeSpec:
    spec = spec_from_dict(
        "code",
        {
            "entry_point": "twice",
            "kind": "function",
            "time_limit": 1,
            "memory_limit_mb": 128,
            "signature": {"params": [{"name": "x", "type": "int"}], "returns": "int"},
            "tests": [
                {"name": "shown", "visible": True, "args": [1], "expect": 2},
                {"name": "secret", "visible": False, "args": [secret], "expect": 2 * secret},
                {"name": "after", "visible": False, "args": [3], "expect": 6},
            ],
        },
    )
    assert isinstance(spec, CodeChallengeSpec)
    return spec


def box_spec(secret: int) -> CodeChallengeSpec:
    spec = spec_from_dict(
        "code",
        {
            "entry_point": "Box",
            "kind": "class",
            "time_limit": 1,
            "memory_limit_mb": 128,
            "signature": {
                "init": [{"name": "x", "type": "int"}],
                "methods": {"get": {"params": [], "returns": "int"}},
            },
            "tests": [
                {"name": "shown", "visible": True, "init": {"args": [1]},
                 "calls": [{"method": "get", "expect": 1}]},
                {"name": "secret", "visible": False, "init": {"args": [secret]},
                 "calls": [{"method": "get", "expect": secret}]},
                {"name": "after", "visible": False, "init": {"args": [3]},
                 "calls": [{"method": "get", "expect": 3}]},
            ],
        },
    )  # fmt: skip
    assert isinstance(spec, CodeChallengeSpec)
    return spec


# The visible test passes and the "after" test fails in every run; the attack decides how
# the secret test (input 6 or 7; ``bit`` is its low bit) fails.
JAVA_PREFIX = """\
import java.io.*;
import java.lang.reflect.*;
import java.nio.file.*;
import java.util.*;

class Solution {
    static final String CHANNEL = "/proc/self/fd/" + System.getenv("SKILLMAP_RESULT_FD");

    static void forge(String line) throws IOException {
        try (OutputStream out = new FileOutputStream(CHANNEL)) {
            out.write((line + "\\n").getBytes());
        }
    }

    /** A test record for test i claiming an exception class named after x. */
    static String raised(int i, int x) {
        String head = "{\\"t\\":\\"test\\",\\"i\\":" + i + ",\\"status\\":\\"exception\\",";
        return head + "\\"exc\\":[[\\"E" + x + "\\",true]]}";
    }

    static int twice(int x) throws Exception {
        if (x == 1) {
            return 2;
        }
        if (x == 3) {
            return -1;
        }
        int bit = x & 1;
"""

JAVA_HELPERS = """\
    static class E6 extends RuntimeException { }
    static class E7 extends RuntimeException { }
    static class IllegalArgumentException extends RuntimeException { }
    static class Loud extends RuntimeException {
        final int x;
        Loud(int x) { this.x = x; }
        @Override public String getMessage() { return "SECRET-" + x; }
        @Override public String toString() { return "SECRET-" + x; }
    }
    static class Value {
        final int x;
        Value(int x) { this.x = x; }
        @Override public String toString() { return "SECRET-" + x; }
    }
    static class Slippery {
        final int bit;
        Slippery(int bit) { this.bit = bit; }
        @Override public String toString() { while (bit == 1) { } return "slippery"; }
    }
    static class Lazy {
        static int value = 0;
        static { if (Holder.bit == 1) { throw new IllegalStateException("SECRET"); } }
    }
    static class Holder {
        static int bit;
    }
    static int down(int n) { return down(n + 1) + 1; }
"""

JAVA_ATTACKS = {
    "learner class chosen by the input": """
        throw bit == 1 ? new E7() : new E6();
    """,
    "learner class named like the JDK's IllegalArgumentException": """
        if (bit == 1) {
            throw new IllegalArgumentException();
        }
        throw new java.lang.IllegalArgumentException();
    """,
    "JDK exception type chosen by the input": """
        if (bit == 1) {
            throw new NoSuchElementException();
        }
        throw new java.lang.IllegalArgumentException();
    """,
    "getMessage and toString encoding the input": """
        throw new Loud(x);
    """,
    "result whose toString encodes the input (map with a non-string key)": """
        return new HashMap<Object, Object>(Map.of(new Value(x), x)).size() * 0 - 1;
    """,
    "forged result line on the channel": """
        forge(raised(1, x));
        return -1;
    """,
    "System.setOut onto the channel": """
        System.setOut(new PrintStream(new FileOutputStream(CHANNEL), true));
        System.out.println("{\\"t\\":\\"test\\",\\"i\\":1,\\"status\\":\\""
            + (bit == 1 ? "timeout" : "memory_limit") + "\\"}");
        return -1;
    """,
    "result line that breaks the parser on the input": """
        if (bit == 1) {
            String open = "{\\"t\\":\\"test\\",\\"i\\":1,\\"status\\":\\"ok\\",";
            open += "\\"value\\":{\\"v\\":";
            forge(open + "[".repeat(100000));
        }
        return -1;
    """,
    "harness's channel replaced by reflection": """
        Class<?> harness = Class.forName("Harness", true, ClassLoader.getSystemClassLoader());
        Field field = harness.getDeclaredField("channel");
        field.setAccessible(true);
        OutputStream real = (OutputStream) field.get(null);
        field.set(null, new FilterOutputStream(real) {
            @Override public void write(byte[] data) throws IOException {
                String text = new String(data).replace("\\"status\\":\\"ok\\"",
                    bit == 1 ? "\\"status\\":\\"timeout\\"" : "\\"status\\":\\"memory_limit\\"");
                real.write(text.getBytes());
            }
        });
        return -1;
    """,
    "a thread that writes after its test": """
        Thread late = new Thread(() -> {
            try {
                Thread.sleep(50);
                forge(raised(2, x));
                System.out.println("SECRET-" + x);
            } catch (Exception e) { }
        });
        late.start();
        return -1;
    """,
    "System.exit with the input as exit code": """
        System.exit(x);
        return -1;
    """,
    "Runtime.halt or a wrong value by the input": """
        if (bit == 1) {
            Runtime.getRuntime().halt(x);
        }
        return -1;
    """,
    "stdout flood by the input": """
        System.out.print(("SECRET-" + x + " ").repeat(bit == 1 ? 20000 : 1));
        System.out.flush();
        Thread.sleep(300);
        return -1;
    """,
    "result channel flood by the input": """
        if (bit == 1) {
            try (OutputStream out = new FileOutputStream(CHANNEL)) {
                out.write(new byte[5 << 20]);
            }
        }
        Thread.sleep(300);
        return -1;
    """,
    "stderr marker the grader reads by the input": """
        System.err.print(bit == 1 ? "java.lang.OutOfMemoryError" : "SECRET-" + x);
        System.err.flush();
        Runtime.getRuntime().halt(1);
        return -1;
    """,
    "timeout by the input": """
        while (bit == 1) { }
        return -1;
    """,
    "unstoppable loop by the input": """
        while (bit == 1) {
            try { while (true) { } } catch (Throwable t) { }
        }
        return -1;
    """,
    "memory blow-up by the input": """
        if (bit == 1) {
            List<long[]> hog = new ArrayList<>();
            while (true) {
                hog.add(new long[1 << 20]);
            }
        }
        return -1;
    """,
    "stack overflow by the input": """
        return bit == 1 ? down(0) : -1;
    """,
    "static initialiser failing by the input": """
        Holder.bit = bit;
        return Lazy.value - 1;
    """,
    "sleep proportional to the input": """
        Thread.sleep(40L * x);
        return -1;
    """,
    "file size by the input": """
        Files.write(Path.of("/tmp/secret-" + x), new byte[(bit == 1 ? 16 : 1) << 20]);
        return -1;
    """,
    "raising or a wrong value by the input": """
        if (bit == 1) {
            throw new java.lang.IllegalArgumentException("SECRET-" + x);
        }
        return -1;
    """,
}

# Forges the visible result so that the hidden inputs are sent while this code still runs
# inside the visible test, reads them from stdin before the harness does, and forges the
# hidden tests' results from them.
EARLY_READER = """\
import java.io.*;

class Solution {
    static int twice(int x) throws IOException {
        if (x != 1) {
            return -1;
        }
        String channel = "/proc/self/fd/" + System.getenv("SKILLMAP_RESULT_FD");
        try (OutputStream out = new FileOutputStream(channel)) {
            out.write("{\\"t\\":\\"test\\",\\"i\\":0,\\"status\\":\\"ok\\",\\"value\\":{\\"v\\":2}}\\n".getBytes());
            out.flush();
            String hidden = new String(System.in.readAllBytes());
            int secret = hidden.contains("[7]") ? 7 : 6;
            String limit = secret == 7 ? "timeout" : "memory_limit";
            out.write(("{\\"t\\":\\"test\\",\\"i\\":1,\\"status\\":\\"exception\\",\\"exc\\":[[\\"E"
                + secret + "\\",true]]}\\n").getBytes());
            String last = "{\\"t\\":\\"test\\",\\"i\\":2,\\"status\\":\\"" + limit;
            out.write((last + "\\"}\\n").getBytes());
        }
        return 2;
    }
}
"""

CLASS_ATTACK = """\
public class Box {
    static class E7 extends IllegalArgumentException { }

    private final int x;

    public Box(int x) {
        this.x = x;
        if (x == 7) {
            throw new E7();
        }
    }

    public int get() {
        return x == 1 ? 1 : -1;
    }
}
"""


@pytest.mark.parametrize("attack", list(JAVA_ATTACKS), ids=list(JAVA_ATTACKS))
def test_java_attack_shows_only_pass_fail(attack: str) -> None:
    source = (
        JAVA_PREFIX
        + textwrap.indent(textwrap.dedent(JAVA_ATTACKS[attack]), " " * 8)
        + "    }\n\n"
        + JAVA_HELPERS
        + "}\n"
    )
    first, second = (grade_java(double_spec(secret), source) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


def test_hidden_inputs_read_early_show_only_pass_fail() -> None:
    first, second = (grade_java(double_spec(secret), EARLY_READER) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


def test_class_attack_shows_only_pass_fail() -> None:
    first, second = (grade_java(box_spec(secret), CLASS_ATTACK) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


# --------------------------------------------------------------------------- controls


def test_visible_tests_keep_their_full_detail() -> None:
    source = """\
import java.util.*;

class Solution {
    static int twice(int x) {
        if (x == 1) {
            throw new NoSuchElementException("k");
        }
        return 2 * x;
    }
}
"""
    report = grade_java(double_spec(6), source)
    shown = report.outcomes[0]
    assert (shown.category, shown.exception_type, shown.actual_repr) == (
        "exception",
        "NoSuchElementException",
        "raised NoSuchElementException",
    )
    assert shown.input_repr == "twice(1)"
    assert [o.passed for o in report.outcomes] == [False, True, True]


def test_a_learner_class_named_like_a_jdk_exception_does_not_pass() -> None:
    spec = spec_from_dict(
        "code",
        {
            "entry_point": "check",
            "kind": "function",
            "signature": {
                "params": [{"name": "x", "type": "int"}],
                "returns": "int",
                "raises": ["ValueError"],
            },
            "tests": [{"name": "t", "visible": True, "args": [1], "raises": "ValueError"}],
        },
    )
    assert isinstance(spec, CodeChallengeSpec)
    fake = """\
class Solution {
    static class IllegalArgumentException extends RuntimeException { }

    static int check(int x) {
        throw new IllegalArgumentException();
    }
}
"""
    report = grade_java(spec, fake)
    assert report.outcomes[0].passed is False
    assert report.outcomes[0].exception_type == "Solution$IllegalArgumentException"
    real = fake.replace(
        "    static class IllegalArgumentException extends RuntimeException { }\n\n", ""
    )
    assert grade_java(spec, real).outcomes[0].passed is True
