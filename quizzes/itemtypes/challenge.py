"""What code and SQL challenges share: the spec, the tests, the editor, the sandbox."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rest_framework.exceptions import ValidationError

from quizzes.grading.runner import GradeReport
from quizzes.grading.spec import CodeChallengeSpec, SpecError, SqlChallengeSpec, WrongSolution
from quizzes.itemtypes.base import (
    Answer,
    AnswerSerializer,
    Data,
    ItemTypeHandler,
    Layout,
    StrictCharField,
    strip_lines,
)

Spec = CodeChallengeSpec | SqlChallengeSpec
MAX_CODE_BYTES = 64 * 1024
_TOO_LONG = f"Code must be text of at most {MAX_CODE_BYTES // 1024} KiB."


class CodeAnswer(AnswerSerializer):
    code = StrictCharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        error_messages={"invalid": _TOO_LONG},
    )

    def validate_code(self, value: str) -> str:
        if len(value.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
            raise ValidationError(_TOO_LONG)
        return value


def _call(name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [json.dumps(a) for a in args] + [f"{k}={json.dumps(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _outcome(test: dict[str, Any]) -> str:
    return f"raises {test['raises']}" if test.get("raises") else json.dumps(test.get("expect"))


class ChallengeHandler(ItemTypeHandler):
    """A challenge graded in the sandbox against visible and hidden tests."""

    needs_sandbox = True
    scored_at_submit = False
    explanation_required = False
    default_points = 10
    bank_keys = frozenset({"challenge"})
    answer_serializer = CodeAnswer
    answer_example = {"code": "def solve(numbers):\n    return sorted(numbers)\n"}
    question_template = "quizzes/itemtypes/challenge.html"
    review_template = "quizzes/itemtypes/challenge_review.html"
    # Whether `check_bank --mutation` mutates the reference solution (quizzes.bank.mutation
    # rewrites Python source).
    mutation_tested: ClassVar[bool] = False
    # The editor's syntax mode and the label above it.
    editor_language: ClassVar[str]
    code_label: ClassVar[str]

    # The grader's spec parser and runner for this kind of challenge (quizzes.grading);
    # subclasses bind them with ``staticmethod``.
    @staticmethod
    def spec_parser(challenge: dict[str, Any], /) -> Spec:
        raise NotImplementedError

    @staticmethod
    def runner(
        spec: Any, source: str, /, *, visible_only: bool = False, slot: int = 0
    ) -> GradeReport:
        raise NotImplementedError

    def parse_spec(self, challenge: dict[str, Any]) -> Spec:
        """The grader's spec from the ``challenge:`` mapping; raises SpecError."""
        return self.spec_parser(challenge)

    def grade(
        self,
        spec: Spec,
        source: str,
        *,
        language: str | None = None,
        visible_only: bool = False,
        slot: int = 0,
    ) -> GradeReport:
        """Run ``source`` (written in ``language``, None for the type's own) in the
        sandbox against the spec's tests."""
        return self.runner(spec, source, visible_only=visible_only, slot=slot)

    def solution_languages(self, spec: Spec) -> list[str]:
        """The languages the bank's solutions are checked in, the type's own first."""
        return [self.editor_language]

    def solutions(self, spec: Spec, language: str) -> tuple[str, tuple[WrongSolution, ...]] | None:
        """The reference and wrong solutions in ``language`` (None: the bank has none)."""
        return spec.reference_solution, spec.wrong_solutions

    def check_bank(self, item: dict[str, Any]) -> list[str]:
        challenge = item.get("challenge")
        if not isinstance(challenge, dict):
            return ["'challenge' is required for a coding item"]
        errors = []
        try:
            self.parse_spec(strip_lines(challenge))
        except SpecError as exc:
            errors.append(f"challenge: {exc}")
        if not str(challenge.get("reference_solution", "")).strip():
            errors.append("challenge: 'reference_solution' is required")
        wrong = challenge.get("wrong_solutions")
        if not isinstance(wrong, list) or not wrong:
            errors.append("challenge: 'wrong_solutions' must list at least one plausible mistake")
        tests = challenge.get("tests") or []
        if isinstance(tests, list):
            hidden = [t for t in tests if isinstance(t, dict) and not t.get("visible", False)]
            visible = [t for t in tests if isinstance(t, dict) and t.get("visible", False)]
            if not visible:
                errors.append("challenge: at least one visible test is required")
            if not hidden:
                errors.append("challenge: at least one hidden test is required")
        return errors

    def build_data(self, item: dict[str, Any]) -> Data:
        return {"challenge": item["challenge"]}

    def starter(self, data: Data) -> str:
        return str(data["challenge"].get("starter", ""))

    def is_blank(self, data: Data, answer: Answer | None) -> bool:
        """Nothing to grade: no code, or the starter code untouched."""
        code = str((answer or {}).get("code", "")).strip()
        return not code or code == self.starter(data).strip()

    def score(self, data: Data, answer: Answer) -> float:
        raise NotImplementedError("challenges are scored by the grading pipeline")

    def key_answer(self, data: Data) -> Answer:
        return {"code": data["challenge"].get("reference_solution", "")}

    def visible_examples(self, data: Data) -> list[dict[str, Any]]:
        """The visible tests, written as code: part of the statement, safe to show."""
        challenge = data.get("challenge", {})
        entry = challenge.get("entry_point", "solution")
        examples = []
        for test in challenge.get("tests", []):
            if not test.get("visible"):
                continue
            if "data" in test:
                text = test["data"].strip()
            elif "calls" in test:
                init = test.get("init") or {}
                lines = [f"obj = {_call(entry, init.get('args', []), init.get('kwargs', {}))}"]
                for c in test["calls"]:
                    call = _call(c["method"], c.get("args", []), c.get("kwargs", {}))
                    lines.append(f"obj.{call}  # → {_outcome(c)}")
                text = "\n".join(lines)
            else:
                call = _call(entry, test.get("args", []), test.get("kwargs", {}))
                text = f"{call}  # → {_outcome(test)}"
            examples.append({"name": test.get("name", ""), "text": text})
        return examples

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        challenge = data["challenge"]
        return {
            "language": self.editor_language,
            "editor_language": self.editor_language,
            "code_label": self.code_label,
            "starter": challenge.get("starter", ""),
            "code": answer.get("code", challenge.get("starter", "")),
            "examples": self.visible_examples(data),
            "schema": challenge.get("schema", ""),
        }
