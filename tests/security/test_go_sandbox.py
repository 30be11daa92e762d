"""Go in the sandbox: hostile submissions are contained, and hidden tests tell pass or fail
only (the differential battery of test_hidden_test_leaks.py, with Go's own primitives).

Each hostile program is a whole Go submission, built and run the way a learner's is
(``grade_code(..., language="go")``, or the Go language's own program and run when the
raw sandbox run must be inspected): the build inside the sandbox, then the program under
the challenge's limits (quizzes/grading/languages/go.py).
"""

from __future__ import annotations

import json
import textwrap
import time
from typing import Any

import pytest

from quizzes.grading.languages import language
from quizzes.grading.outcomes import OutcomeCategory, ReportStatus
from quizzes.grading.runner import GradeReport, grade_code
from quizzes.grading.sandbox import SandboxRun
from quizzes.grading.spec import CodeChallengeSpec, spec_from_dict
from tests.security.conftest import SECURITY_SLOT, host_port_open
from tests.security.test_hidden_test_leaks import SECRETS, assert_nothing_but_pass_fail

pytestmark = pytest.mark.sandbox

GO = language("go")


def go_spec(
    secret: int = 6,
    *,
    kind: str = "function",
    time_limit: float = 1.0,
    memory_limit_mb: int = 128,
    secret_visible: bool = False,
    raises: bool = False,
) -> CodeChallengeSpec:
    """twice(x) -> int, or a Box(x) with get(); tests 1 (visible), the secret, 3; with
    ``raises``, the function or the constructor may fail with ValueError."""
    if kind == "function":
        data: dict[str, Any] = {
            "entry_point": "twice",
            "kind": "function",
            "signature": {
                "params": [{"name": "x", "type": "int"}],
                "returns": "int",
                **({"raises": ["ValueError"]} if raises else {}),
            },
            "tests": [
                {"name": "shown", "visible": True, "args": [1], "expect": 2},
                {"name": "secret", "visible": secret_visible, "args": [secret],
                 "expect": 2 * secret},
                {"name": "after", "visible": False, "args": [3], "expect": 6},
            ],
        }  # fmt: skip
    else:
        data = {
            "entry_point": "Box",
            "kind": "class",
            "signature": {
                "init": [{"name": "x", "type": "int"}],
                **({"init_raises": ["ValueError"]} if raises else {}),
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
        }  # fmt: skip
    data.update(time_limit=time_limit, memory_limit_mb=memory_limit_mb)
    spec = spec_from_dict("code", data)
    assert isinstance(spec, CodeChallengeSpec)
    return spec


def grade(source: str, spec: CodeChallengeSpec | None = None) -> GradeReport:
    return grade_code(spec or go_spec(), textwrap.dedent(source), language="go", slot=SECURITY_SLOT)


def raw_run(source: str, spec: CodeChallengeSpec | None = None) -> SandboxRun:
    """The sandbox run of a Go submission, visible tests only (no hidden inputs sent)."""
    spec = spec or go_spec()
    visible = [GO.test_input(spec, test) for test in spec.tests if test.visible]
    config = GO.config(spec, visible, 0)
    program = GO.program(spec, textwrap.dedent(source), config, slot=SECURITY_SLOT)
    return GO.run(program, slot=SECURITY_SLOT, stdin_responder=None)


def records(run: SandboxRun) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run.result.splitlines() if line.startswith(b"{")]


def first_outcome(report: GradeReport) -> OutcomeCategory:
    assert report.status == ReportStatus.GRADED, report
    return report.outcomes[0].category


# --------------------------------------------------------------------------- the program


def test_a_correct_submission_passes_and_a_panic_is_an_exception() -> None:
    report = grade(
        """
        package main

        func Twice(x int) int { return 2 * x }
        """
    )
    assert report.status == ReportStatus.GRADED and report.score == 1.0, report
    report = grade(
        """
        package main

        func Twice(x int) int {
            var values []int
            return values[x]
        }
        """
    )
    shown = report.outcomes[0]
    assert shown.category == OutcomeCategory.EXCEPTION
    assert shown.exception_type == "panic: runtime error: index out of range [1] with length 0"


def test_fork_bomb_with_os_exec_is_stopped_by_the_process_limit() -> None:
    run = raw_run(
        """
        package main

        import (
            "fmt"
            "os/exec"
        )

        func Twice(x int) int {
            started := 0
            for i := 0; i < 1000; i++ {
                if err := exec.Command("/bin/sleep", "30").Start(); err != nil {
                    fmt.Println("refused:", err)
                    break
                }
                started++
            }
            return started
        }
        """
    )
    assert b"resource temporarily unavailable" in run.stdout, run
    (test,) = [r for r in records(run) if r["t"] == "test"]
    assert 0 < test["value"]["v"] < 64  # the sandbox's process limit (threads included)


def test_threads_pinned_by_goroutines_hit_the_process_limit() -> None:
    run = raw_run(
        """
        package main

        import (
            "runtime"
            "time"
        )

        func Twice(x int) int {
            for i := 0; i < 1000; i++ {
                go func() {
                    runtime.LockOSThread()
                    time.Sleep(time.Hour)
                }()
            }
            time.Sleep(2 * time.Second)
            return 2
        }
        """
    )
    assert b"pthread_create failed" in run.stderr or b"newosproc" in run.stderr, run.stderr[:300]
    assert not any(r["t"] == "test" for r in records(run))


def test_heap_memory_bomb_hits_the_data_limit() -> None:
    report = grade(
        """
        package main

        var keep [][]byte

        func Twice(x int) int {
            for {
                keep = append(keep, make([]byte, 16<<20))
            }
        }
        """
    )
    assert first_outcome(report) == OutcomeCategory.MEMORY_LIMIT, report


def test_shared_memory_mappings_hit_the_address_space_backstop() -> None:
    run = raw_run(
        """
        package main

        import (
            "fmt"
            "syscall"
        )

        func Twice(x int) int {
            memory, err := syscall.Mmap(-1, 0, 3<<30,
                syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANON)
            fmt.Println("mmap:", err)
            return len(memory) >> 20
        }
        """
    )
    assert b"mmap: cannot allocate memory" in run.stdout, run


@pytest.mark.parametrize("stream", ["Stdout", "Stderr"])
def test_infinite_output_is_capped(stream: str) -> None:
    report = grade(
        f"""
        package main

        import "os"

        func Twice(x int) int {{
            line := []byte("spam spam spam spam spam spam spam spam\\n")
            for {{
                os.{stream}.Write(line)
            }}
        }}
        """
    )
    assert first_outcome(report) == OutcomeCategory.OUTPUT_LIMIT, report


def test_network_is_refused() -> None:
    assert host_port_open(5432) or True  # the sandbox cannot tell either way
    run = raw_run(
        """
        package main

        import (
            "fmt"
            "net"
            "time"
        )

        func Twice(x int) int {
            for _, address := range []string{"127.0.0.1:5432", "1.1.1.1:443"} {
                _, err := net.DialTimeout("tcp", address, time.Second)
                fmt.Println(address, err)
            }
            return 2
        }
        """
    )
    out = run.stdout.decode()
    assert out.count("socket: operation not permitted") == 2, out


def test_secrets_and_proc_show_nothing_of_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMAP_TEST_SECRET", "hunter2-go")
    run = raw_run(
        """
        package main

        import (
            "fmt"
            "os"
            "strings"
        )

        func Twice(x int) int {
            fmt.Println(strings.Join(os.Environ(), " "))
            for _, path := range []string{"/proc/1/environ", "/proc/self/environ",
                "/proc/1/cmdline", "/etc/passwd", "/work", "/root"} {
                data, err := os.ReadFile(path)
                fmt.Printf("%s %q %v\\n", path, data, err)
            }
            return 2
        }
        """
    )
    out = run.stdout.decode()
    assert "hunter2" not in out and "SECRET_KEY" not in out and "DATABASE_URL" not in out
    environment = out.splitlines()[0].split()
    assert {item.split("=")[0] for item in environment} <= {
        "PATH", "LANG", "SKILLMAP_RESULT_FD", "GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK",
    }  # fmt: skip
    assert '/etc/passwd "" open /etc/passwd: no such file or directory' in out


def test_os_exec_runs_only_inside_the_sandbox() -> None:
    run = raw_run(
        """
        package main

        import (
            "fmt"
            "os/exec"
        )

        func Twice(x int) int {
            out, err := exec.Command("/bin/sh", "-c",
                "id -u; touch /usr/x 2>&1; touch /sandbox/x 2>&1; ls /").CombinedOutput()
            fmt.Printf("%s|%v", out, err)
            return 2
        }
        """
    )
    out = run.stdout.decode()
    assert out.startswith("65534\n"), out
    assert "touch: cannot touch '/usr/x': Read-only file system" in out
    assert "touch: cannot touch '/sandbox/x': Read-only file system" in out
    assert "work" not in out and "root" not in out.replace("/root", "")


def test_filling_tmp_stops_at_the_tmpfs_and_file_limits() -> None:
    run = raw_run(
        """
        package main

        import (
            "fmt"
            "os"
        )

        func Twice(x int) int {
            chunk := make([]byte, 1<<20)
            for n := 0; n < 1000; n++ {
                file, err := os.Create(fmt.Sprintf("/tmp/fill-%d", n))
                if err != nil {
                    fmt.Println("create:", err)
                    break
                }
                written := 0
                for written < 16<<20 {
                    k, err := file.Write(chunk)
                    written += k
                    if err != nil {
                        fmt.Println("write:", err)
                        break
                    }
                }
                file.Close()
                if written < 16<<20 && written != 8<<20 {
                    break
                }
            }
            return 2
        }
        """
    )
    out = run.stdout.decode()
    assert "no space left on device" in out, out
    assert b"signal: file size limit exceeded" not in run.stderr


def test_a_compile_that_blows_up_is_stopped_and_reported() -> None:
    # Each constant doubles the last: the compiler folds a string of 2^40 bytes.
    consts = "\n".join(f"const c{i} = c{i - 1} + c{i - 1}" for i in range(1, 41))
    started = time.monotonic()
    report = grade(
        f"""
        package main

        const c0 = "xx"
        {textwrap.indent(consts, "        ").strip()}

        func Twice(x int) int {{ return len(c40) }}
        """
    )
    assert report.status == ReportStatus.COMPILE_ERROR, report
    assert time.monotonic() - started < 60
    assert "Compile error" in report.message or "Build error" in report.message, report.message


def test_a_huge_program_is_refused_by_the_file_size_limit() -> None:
    # An 8 MiB string constant: its object file exceeds the file size limit.
    consts = "\n".join(f"const c{i} = c{i - 1} + c{i - 1}" for i in range(1, 21))
    report = grade(
        f"""
        package main

        const c0 = "xxxxxxxx"
        {textwrap.indent(consts, "        ").strip()}

        var table = c20

        func Twice(x int) int {{ return len(table)*0 + 2*x }}
        """
    )
    assert report.status == ReportStatus.COMPILE_ERROR, report
    assert report.message == "Build error: the program the build produced is too large"


def test_compile_errors_point_at_the_learners_own_lines() -> None:
    report = grade(
        """
        package main

        func Twice(x int) int {
            y := x * 2
            return z
        }
        """
    )
    assert report.status == ReportStatus.COMPILE_ERROR
    assert report.message == (
        "Compile error on line 5: y declared but not used; line 6: undefined: z"
    ), report.message

    report = grade("package main\n\nfunc Twice(x string) int { return 0 }\n")
    assert report.status == ReportStatus.COMPILE_ERROR
    assert report.message.startswith("Your code must declare func Twice(x int) int"), report.message


def test_a_timed_out_test_does_not_slow_down_the_next_ones() -> None:
    # The runaway goroutine of the first test would take the CPU from every later test;
    # the harness restarts itself after a timeout, so the later tests still pass.
    report = grade(
        """
        package main

        func Twice(x int) int {
            if x == 1 {
                for {
                }
            }
            return 2 * x
        }
        """
    )
    assert [o.category for o in report.outcomes] == [
        OutcomeCategory.TIMEOUT, OutcomeCategory.PASSED, OutcomeCategory.PASSED,
    ], report  # fmt: skip


# --------------------------------------------------------------------------- exfiltration

# The visible test passes and the "after" test fails in every run; the attack decides how
# the secret test (input 6 or 7; ``bit`` its low bit) fails.
GO_PREFIX = """\
package main

import (
    "errors"
    "fmt"
    "os"
    "runtime"
    "strconv"
    "syscall"
    "time"
)

var ErrInvalidArgument = errors.New("invalid argument")

var _, _, _, _, _, _ = fmt.Sprint, os.Exit, runtime.Goexit, strconv.Itoa, syscall.Getpid, time.Sleep

type E6 struct{}

func (E6) Error() string { return "E6" }

type E7 struct{ code int }

func (e E7) Error() string { return "E" + strconv.Itoa(e.code) }

func resultFD() int {
    fd, _ := strconv.Atoi(os.Getenv("SKILLMAP_RESULT_FD"))
    return fd
}

func Twice(x int) (int, error) {
    if x == 1 {
        return 2, nil
    }
    if x == 3 {
        return -1, nil
    }
    bit := x & 1
    _ = bit
"""

GO_ATTACKS = {
    "panic value chosen by the input": """
        panic(fmt.Sprintf("SECRET-%d", x))
    """,
    "runtime panic whose message holds the input": """
        var values [5]int
        index := x
        return values[index], nil
    """,
    "error type chosen by the input": """
        if bit == 1 {
            return 0, E7{x}
        }
        return 0, E6{}
    """,
    "sentinel or another error by the input": """
        if bit == 1 {
            return 0, ErrInvalidArgument
        }
        return 0, fmt.Errorf("SECRET-%d", x)
    """,
    "error wrapping the sentinel with the input": """
        return 0, fmt.Errorf("SECRET-%d: %w", x, ErrInvalidArgument)
    """,
    "os.Stdout written by the input": """
        fmt.Fprintf(os.Stdout, "SECRET-%d\\n", x)
        return -1, nil
    """,
    "stdout flood by the input": """
        for i := 0; i < 20000*bit+1; i++ {
            os.Stdout.WriteString("SECRET-" + strconv.Itoa(x) + " ")
        }
        time.Sleep(300 * time.Millisecond)
        return -1, nil
    """,
    "stderr marker the grader reads by the input": """
        if bit == 1 {
            os.Stderr.WriteString("fatal error: runtime: out of memory\\n")
        } else {
            os.Stderr.WriteString("SECRET-" + strconv.Itoa(x))
        }
        os.Exit(1)
        return 0, nil
    """,
    "os.Exit with the input as exit code": """
        os.Exit(x)
        return 0, nil
    """,
    "signal chosen by the input": """
        signal := syscall.SIGSEGV
        if bit == 1 {
            signal = syscall.SIGABRT
        }
        syscall.Kill(syscall.Getpid(), signal)
        time.Sleep(time.Second)
        return -1, nil
    """,
    "forged result line": """
        line := fmt.Sprintf(`{"t":"test","i":1,"status":"exception","exc":[["E%d",true]]}`, x)
        syscall.Write(resultFD(), []byte(line+"\\n"))
        return -1, nil
    """,
    "result channel flood by the input": """
        if bit == 1 {
            chunk := make([]byte, 1<<20)
            for i := 0; i < 5; i++ {
                syscall.Write(resultFD(), chunk)
            }
        }
        time.Sleep(300 * time.Millisecond)
        return -1, nil
    """,
    "goroutine forging records after the test": """
        go func() {
            time.Sleep(50 * time.Millisecond)
            for i := 1; i < 3; i++ {
                line := fmt.Sprintf(
                    `{"t":"test","i":%d,"status":"exception","exc":[["E%d",true]]}`, i, x)
                syscall.Write(resultFD(), []byte(line+"\\n"))
            }
        }()
        return -1, nil
    """,
    "timeout by the input": """
        for bit == 1 {
        }
        return -1, nil
    """,
    "memory blow-up by the input": """
        var keep [][]byte
        for bit == 1 {
            keep = append(keep, make([]byte, 16<<20))
        }
        return -1, nil
    """,
    "stack overflow by the input": """
        var down func(int) int
        down = func(n int) int { return down(n+1) + 1 }
        if bit == 1 {
            return down(0), nil
        }
        return -1, nil
    """,
    "runtime.Goexit or a panic by the input": """
        if bit == 1 {
            runtime.Goexit()
        }
        panic(E6{})
    """,
    "sleep proportional to the input": """
        time.Sleep(time.Duration(x) * 40 * time.Millisecond)
        return -1, nil
    """,
    "file size by the input": """
        data := make([]byte, (1+15*bit)<<20)
        os.WriteFile("/tmp/secret-"+strconv.Itoa(x), data, 0o600)
        return -1, nil
    """,
}

GO_SUFFIX = "}\n"

# Package initialisation runs before the harness's main: init() forges "loaded" and the
# visible result, so the hidden inputs are sent at once; a goroutine it started reads
# them before the harness can, and forges the hidden tests' records from the secret.
INIT_FORGER = """\
package main

import (
    "encoding/json"
    "errors"
    "fmt"
    "io"
    "os"
    "strconv"
    "syscall"
)

var ErrInvalidArgument = errors.New("invalid argument")

func init() {
    fd, _ := strconv.Atoi(os.Getenv("SKILLMAP_RESULT_FD"))
    syscall.Write(fd, []byte(`{"t":"loaded"}`+"\\n"))
    syscall.Write(fd, []byte(`{"t":"test","i":0,"status":"ok","value":{"v":2}}`+"\\n"))
    go func() {
        data, _ := io.ReadAll(os.Stdin)
        var hidden []struct{ Args []int `json:"args"` }
        json.Unmarshal(data, &hidden)
        secret := hidden[0].Args[0]
        limit := "memory_limit"
        if secret&1 == 1 {
            limit = "timeout"
        }
        syscall.Write(fd, []byte(fmt.Sprintf(
            `{"t":"test","i":1,"status":"exception","exc":[["E%d",true]]}`+"\\n", secret)))
        syscall.Write(fd, []byte(`{"t":"test","i":2,"status":"`+limit+`"}`+"\\n"))
    }()
}

func Twice(x int) (int, error) {
    if x == 1 {
        return 2, nil
    }
    return -1, nil
}
"""

# Forges the visible result so that the hidden inputs are sent while this code still runs
# inside the visible test, reads them from stdin before the harness does, and forges the
# hidden tests' results from them.
EARLY_READER = """\
package main

import (
    "encoding/json"
    "errors"
    "fmt"
    "io"
    "os"
    "strconv"
    "syscall"
)

var ErrInvalidArgument = errors.New("invalid argument")

func Twice(x int) (int, error) {
    fd, _ := strconv.Atoi(os.Getenv("SKILLMAP_RESULT_FD"))
    if x == 1 {
        syscall.Write(fd, []byte(`{"t":"test","i":0,"status":"ok","value":{"v":2}}`+"\\n"))
        data, _ := io.ReadAll(os.Stdin)
        var hidden []struct{ Args []int `json:"args"` }
        json.Unmarshal(data, &hidden)
        secret := hidden[0].Args[0]
        limit := "memory_limit"
        if secret&1 == 1 {
            limit = "timeout"
        }
        syscall.Write(fd, []byte(fmt.Sprintf(
            `{"t":"test","i":1,"status":"exception","exc":[["E%d",true]]}`+"\\n", secret)))
        syscall.Write(fd, []byte(`{"t":"test","i":2,"status":"`+limit+`"}`+"\\n"))
        return 2, nil
    }
    return -1, nil
}
"""

CLASS_ATTACK = """\
package main

import (
    "errors"
    "fmt"
)

var ErrInvalidArgument = errors.New("invalid argument")

type Box struct{ x int }

func NewBox(x int) (*Box, error) {
    if x == 7 {
        return nil, fmt.Errorf("E%d", x)
    }
    if x == 6 {
        return nil, ErrInvalidArgument
    }
    return &Box{x}, nil
}

func (b *Box) Get() int {
    if b.x == 1 {
        return 1
    }
    return -1
}
"""


def attack_source(attack: str) -> str:
    return GO_PREFIX + textwrap.indent(textwrap.dedent(GO_ATTACKS[attack]), "    ") + GO_SUFFIX


@pytest.mark.parametrize("attack", list(GO_ATTACKS), ids=list(GO_ATTACKS))
def test_go_attack_shows_only_pass_fail(attack: str) -> None:
    source = attack_source(attack)
    first, second = (
        grade_code(go_spec(secret, raises=True), source, language="go", slot=SECURITY_SLOT)
        for secret in SECRETS
    )
    assert_nothing_but_pass_fail(first, second)


@pytest.mark.parametrize(
    "source", [INIT_FORGER, EARLY_READER], ids=["init() forging records", "early reader"]
)
def test_go_forgers_show_only_pass_fail(source: str) -> None:
    first, second = (
        grade_code(go_spec(secret, raises=True), source, language="go", slot=SECURITY_SLOT)
        for secret in SECRETS
    )
    assert_nothing_but_pass_fail(first, second)


def test_go_class_attack_shows_only_pass_fail() -> None:
    first, second = (
        grade_code(
            go_spec(secret, kind="class", raises=True),
            CLASS_ATTACK,
            language="go",
            slot=SECURITY_SLOT,
        )
        for secret in SECRETS
    )
    assert_nothing_but_pass_fail(first, second)


def test_the_comparison_tells_go_runs_apart_when_the_input_is_visible() -> None:
    source = attack_source("error type chosen by the input")
    first, second = (
        grade_code(
            go_spec(secret, secret_visible=True, raises=True),
            source,
            language="go",
            slot=SECURITY_SLOT,
        )
        for secret in SECRETS
    )
    assert first.outcomes[1].exception_type == "error: E6"
    assert second.outcomes[1].exception_type == "error: E7"
    with pytest.raises(AssertionError, match="the API tells the runs apart"):
        assert_nothing_but_pass_fail(first, second)
