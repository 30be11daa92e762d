"""A hidden test tells a JavaScript or TypeScript learner pass or fail, and nothing else.

The differential battery of test_hidden_test_leaks.py, rerun with Node's own primitives:
error classes named after the input (custom, registered on the global, shadowing a
builtin), ``Error.prototype.name`` and ``constructor.name`` rewritten, getters, proxies,
``toJSON``/``Symbol.toPrimitive``/custom inspection on the value, the harness's realm
reached through a function it handed in, forged result lines, ``process.exit`` codes,
signals, unhandled rejections, stdout floods, time, memory and recursion. Each attack
runs against two challenges that differ in one bit of one hidden input (6 and 7), fails
that hidden test both times, and what the learner can see must be byte for byte equal.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator

import pytest

from quizzes.grading.runner import GradeReport, grade_code
from quizzes.grading.spec import CodeChallengeSpec, spec_from_dict
from tests.security.conftest import slot_uid, wait_no_processes
from tests.security.test_hidden_test_leaks import (
    SECRETS,
    assert_nothing_but_pass_fail,
    learner_sees,
    without_passed,
)

pytestmark = pytest.mark.sandbox

# A slot of its own, so that batteries of other languages running at the same time can
# neither share its process limit nor leave processes its leftovers check would see.
NODE_LEAK_SLOT = 12


@pytest.fixture(autouse=True)
def _no_leftovers(_sandbox_works: None) -> Iterator[None]:
    yield
    if os.geteuid() == 0:
        assert wait_no_processes(slot_uid(NODE_LEAK_SLOT)) == []


def node_spec(secret: int, *, secret_visible: bool = False) -> CodeChallengeSpec:
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
                {"name": "secret", "visible": secret_visible, "args": [secret],
                 "expect": 2 * secret},
                {"name": "after", "visible": False, "args": [3], "expect": 6},
            ],
        },
    )  # fmt: skip
    assert isinstance(spec, CodeChallengeSpec)
    return spec


def class_spec(secret: int) -> CodeChallengeSpec:
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


# The visible test passes and the "after" test fails in every run; the attack decides
# how the secret test (input 6 or 7; ``bit`` is its low bit) fails.
PREFIX = """\
const fs = require('fs');
function twice(x) {
  if (x === 1) return 2;
  if (x === 3) return -1;
  const bit = x & 1;
"""
SUFFIX = """
}
module.exports = { twice };
"""

ATTACKS = {
    "error class named after the input": """
        const E = { ['E' + x]: class extends Error {} }['E' + x];
        throw new E('E' + x);
    """,
    "class shadowing a builtin name chosen by the input": """
        class Fake extends Error {}
        Object.defineProperty(Fake, 'name', { value: bit ? 'RangeError' : 'TypeError' });
        globalThis[Fake.name] = Fake;
        throw new Fake();
    """,
    "builtin error type chosen by the input": """
        throw new (bit ? RangeError : TypeError)('SECRET-' + x);
    """,
    "Error.prototype.name and the constructor's name rewritten": """
        Error.prototype.name = 'E' + x;
        RangeError.prototype.name = 'E' + x;
        Object.defineProperty(RangeError, 'name', { value: 'E' + x });
        throw new RangeError('E' + x);
    """,
    "prototype chain swapped by the input": """
        const error = new Error('x');
        Object.setPrototypeOf(error, bit ? RangeError.prototype : SyntaxError.prototype);
        throw error;
    """,
    "a proxy thrown, its traps reporting the input": """
        throw new Proxy(new Error('x'), {
          getPrototypeOf: () => (bit ? RangeError.prototype : TypeError.prototype),
          get: () => 'E' + x,
        });
    """,
    "a primitive thrown": """
        throw bit ? 'SECRET-' + x : x;
    """,
    "a getter on the result": """
        return { get value() { return 'SECRET-' + x; } };
    """,
    "toJSON, Symbol.toPrimitive and a custom inspect on the result": """
        return {
          toJSON: () => 'SECRET-' + x,
          [Symbol.toPrimitive]: () => x,
          [Symbol.for('nodejs.util.inspect.custom')]: () => 'SECRET-' + x,
        };
    """,
    "a proxy returned": """
        return new Proxy({}, { ownKeys: () => { while (bit) {} return []; } });
    """,
    "a result whose inspection hangs on the input": """
        class Slippery { constructor() { this.self = this; } }
        Object.defineProperty(Slippery.prototype, 'constructor', {
          get() { while (bit) {} return Slippery; },
        });
        return new Slippery();
    """,
    "forged result line": """
        const fd = Number(process.env.SKILLMAP_RESULT_FD);
        fs.writeSync(fd, '{"t":"test","i":1,"status":"exception","exc":[["E' + x + '",true]]}\\n');
        return -1;
    """,
    "result line that breaks the parser on the input": """
        if (bit) {
          const fd = Number(process.env.SKILLMAP_RESULT_FD);
          const head = '{"t":"test","i":1,"status":"ok","value":{"v":';
          fs.writeSync(fd, head + '['.repeat(100000) + '\\n');
        }
        return -1;
    """,
    "the harness's realm patched through a function it handed in": """
        const outer = require.constructor('return this')();
        outer.JSON.stringify = () => '"SECRET-' + x + '"';
        outer.Array.prototype.join = function () { return 'SECRET-' + x; };
        outer.Object.prototype.toJSON = () => 'SECRET-' + x;
        return -1;
    """,
    "process.stdout.write and fs.writeSync replaced": """
        const outer = require.constructor('return this')();
        const real = fs.writeSync;
        fs.writeSync = (fd, data, ...rest) =>
          real(fd, String(data).replace('"ok"', bit ? '"timeout"' : '"memory_limit"'), ...rest);
        outer.process.stdout.write = () => true;
        return -1;
    """,
    "process.exit with the input as exit code": """
        process.exit(x);
    """,
    "process.exit only on one input": """
        if (bit) process.exit(0);
        return -1;
    """,
    "process.reallyExit and process.abort by the input": """
        if (bit) process.abort();
        process.reallyExit(x);
    """,
    "signal chosen by the input": """
        process.kill(process.pid, bit ? 'SIGSEGV' : 'SIGTERM');
        for (;;) {}
    """,
    "unhandled rejection and uncaught exception by the input": """
        Promise.reject(new Error('SECRET-' + x));
        setTimeout(() => { throw new Error('SECRET-' + x); }, 0);
        if (bit) throw new TypeError('x');
        return -1;
    """,
    "stdout flood by the input": """
        process.stdout.write(('SECRET-' + x + ' ').repeat(bit ? 20000 : 1));
        return -1;
    """,
    "stderr marker the grader reads by the input": """
        process.stderr.write(bit ? 'JavaScript heap out of memory' : 'SECRET-' + x);
        process.exit(1);
    """,
    "timeout by the input": """
        while (bit) {}
        return -1;
    """,
    "memory blow-up by the input": """
        const hog = [];
        while (bit) hog.push(new Array(1 << 20).fill(x));
        return -1;
    """,
    "array buffer blow-up by the input": """
        const hog = [];
        while (bit) hog.push(Buffer.alloc(16 << 20, x));
        return -1;
    """,
    "recursion by the input": """
        const down = (n) => down(n + 1) + 1;
        if (bit) down(0);
        return -1;
    """,
    "busy wait proportional to the input": """
        const until = Date.now() + 40 * x;
        while (Date.now() < until) {}
        return -1;
    """,
    "file size by the input": """
        fs.writeFileSync('/tmp/secret-' + x, Buffer.alloc((bit ? 16 : 1) << 20, x));
        return -1;
    """,
    "a promise returned": """
        return Promise.resolve(2 * x);
    """,
}

# Forges the visible result so that the hidden inputs are sent while this code still runs
# inside the visible test, reads them from stdin before the harness does, and forges the
# hidden tests' results from them.
EARLY_READER = """\
const fs = require('fs');
function twice(x) {
  const fd = Number(process.env.SKILLMAP_RESULT_FD);
  if (x === 1) {
    fs.writeSync(fd, '{"t":"test","i":0,"status":"ok","value":{"v":2}}\\n');
    const secret = JSON.parse(fs.readFileSync(0, 'utf8'))[0].args[0];
    const limit = secret & 1 ? 'timeout' : 'memory_limit';
    fs.writeSync(fd, '{"t":"test","i":1,"status":"exception","exc":[["E' + secret + '",true]]}\\n');
    fs.writeSync(fd, '{"t":"test","i":2,"status":"' + limit + '"}\\n');
    return 2;
  }
  return -1;
}
module.exports = { twice };
"""

CLASS_ATTACK = """\
class Box {
  constructor(x) {
    this.x = x;
    if (x === 7) throw new ({ ['E' + x]: class extends RangeError {} })['E' + x]();
  }
  get() {
    return this.x === 1 ? this.x : -1;
  }
}
module.exports = { Box };
"""

TYPESCRIPT_ATTACK = """\
class Leak extends Error {
  constructor(x: number) {
    super("SECRET-" + x);
    this.name = "E" + x;
  }
}

export function twice(x: number): number {
  if (x === 1) return 2;
  if (x === 3) return -1;
  if (x & 1) throw new Leak(x);
  return -x;
}
"""


def _grade(spec: CodeChallengeSpec, source: str, language: str = "javascript") -> GradeReport:
    return grade_code(spec, source, language=language, slot=NODE_LEAK_SLOT)


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_javascript_attack_shows_only_pass_fail(attack: str) -> None:
    body = textwrap.indent(textwrap.dedent(ATTACKS[attack]), "  ")
    source = PREFIX + body + SUFFIX
    first, second = (_grade(node_spec(secret), source) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


def test_hidden_inputs_read_early_show_only_pass_fail() -> None:
    first, second = (_grade(node_spec(secret), EARLY_READER) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


def test_class_attack_shows_only_pass_fail() -> None:
    first, second = (_grade(class_spec(secret), CLASS_ATTACK) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


def test_typescript_attack_shows_only_pass_fail() -> None:
    first, second = (
        _grade(node_spec(secret), TYPESCRIPT_ATTACK, "typescript") for secret in SECRETS
    )
    assert_nothing_but_pass_fail(first, second)


# --------------------------------------------------------------------------- controls


def test_visible_tests_keep_their_full_detail() -> None:
    source = (
        "function twice(x) {\n"
        "  if (x === 1) throw new RangeError('no');\n"
        "  return 2 * x;\n"
        "}\nmodule.exports = { twice };\n"
    )
    _, api, html = learner_sees(_grade(node_spec(6), source))
    shown = api["outcomes"][0]
    assert shown["visible"] and not shown["passed"]
    assert (shown["category"], shown["exception_type"]) == ("exception", "RangeError")
    assert shown["expected_repr"] == "2"
    assert [o["passed"] for o in api["outcomes"]] == [False, True, True]
    assert "RangeError" in html


def test_a_renamed_error_class_is_shown_as_the_code_named_it() -> None:
    source = (
        "class ValidationError extends RangeError {}\n"
        "function twice(x) {\n"
        "  if (x === 1) throw new ValidationError('no');\n"
        "  return 2 * x;\n"
        "}\nmodule.exports = { twice };\n"
    )
    _, api, _ = learner_sees(_grade(node_spec(6), source))
    assert api["outcomes"][0]["exception_type"] == "ValidationError"


def test_the_comparison_tells_runs_apart_when_the_input_is_visible() -> None:
    body = textwrap.indent(textwrap.dedent(ATTACKS["builtin error type chosen by the input"]), "  ")
    source = PREFIX + body + SUFFIX
    seen = [learner_sees(_grade(node_spec(s, secret_visible=True), source)) for s in SECRETS]
    (_, api_a, html_a), (_, api_b, html_b) = seen
    assert without_passed(api_a) != without_passed(api_b)
    assert html_a != html_b
    assert api_a["outcomes"][1]["exception_type"] == "TypeError"
    assert api_b["outcomes"][1]["exception_type"] == "RangeError"
