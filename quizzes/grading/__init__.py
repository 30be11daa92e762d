"""Code grading: challenge specs, the bubblewrap sandbox, the in-sandbox harness and
scoring. Knows nothing of Django: dataclasses in, dataclasses out (docs/architecture.md,
"Layering rules").
"""

from .outcomes import OutcomeCategory, ReportStatus
from .runner import CATEGORIES, GradeReport, TestOutcome, grade_code, grade_python, grade_sql
from .sandbox import (
    Limits,
    SandboxHealth,
    SandboxRun,
    SandboxUnavailable,
    check_sandbox,
    run_sandboxed,
)
from .spec import (
    Call,
    CodeChallengeSpec,
    PythonChallengeSpec,
    SpecError,
    SqlChallengeSpec,
    TestCase,
    spec_from_dict,
)

__all__ = [
    "CATEGORIES",
    "Call",
    "CodeChallengeSpec",
    "GradeReport",
    "Limits",
    "OutcomeCategory",
    "PythonChallengeSpec",
    "ReportStatus",
    "SandboxHealth",
    "SandboxRun",
    "SandboxUnavailable",
    "SpecError",
    "SqlChallengeSpec",
    "TestCase",
    "TestOutcome",
    "check_sandbox",
    "grade_code",
    "grade_python",
    "grade_sql",
    "run_sandboxed",
    "spec_from_dict",
]
