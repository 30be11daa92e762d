"""The bank standard (quizzes/bank/policy.py): each check fires on a small bank that breaks
it, and stays quiet on one that meets it. The banks are generated: one stage (2) with eight
objective items on each of its six topics, its coverage manifest and its cold review."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from quizzes.bank.check import roadmap_topics
from quizzes.bank.loader import BankFile, read_bank_file
from quizzes.bank.policy import (
    StageSummary,
    Standard,
    check_answer_cues,
    check_counts,
    check_coverage,
    check_difficulties,
    check_policy,
    check_review,
    check_samples_listed,
    check_true_share,
)

BASE = Path(__file__).resolve().parents[3]
TOPICS = roadmap_topics(BASE / "fixtures/roadmap.yaml")
STAGE = 2
KINDS = [
    "single_choice",
    "single_choice",
    "multiple_choice",
    "true_false",
    "numeric",
    "short_text",
    "ordering",
    "matching",
]


def _prose(rng: random.Random, words: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choices(letters, k=rng.randint(3, 9))) for _ in range(words))


def make_item(n: int, topic: str, kind: str, rng: random.Random) -> dict[str, Any]:
    slug = f"gen-{topic}-{n}"
    item: dict[str, Any] = {
        "slug": slug,
        "type": kind,
        "topic": topic,
        "difficulty": n % 5 + 1,
        "cognitive": "judgement",
        "title": f"Generated {slug}",
        "body": _prose(rng, 30),
        "explanation": _prose(rng, 12),
    }
    if kind == "single_choice":
        item["choices"] = [
            {"text": f"Key of {slug}", "correct": True},
            {"text": f"First distractor of {slug}"},
            {"text": f"Second distractor of {slug}"},
        ]
    elif kind == "multiple_choice":
        item["choices"] = [
            {"text": f"Right one of {slug}", "correct": True},
            {"text": f"Right two of {slug}", "correct": True},
            {"text": f"Wrong one of {slug}"},
        ]
    elif kind == "true_false":
        item["answer"] = n // len(KINDS) % 2 == 0  # one per topic: three true, three false
    elif kind == "numeric":
        answer = 1234 + n
        item.update(
            answer=answer,
            tolerance=0.5,
            unit="ms",
            samples={"accept": [f"{answer} ms", f"`{answer}`"], "reject": [f"{answer} s"]},
        )
    elif kind == "short_text":
        item.update(
            accepted=[f"answer{n}"],
            samples={"accept": [f"`Answer{n}`."], "reject": [f"answer{n + 1000}"]},
        )
    elif kind == "ordering":
        item["sequence"] = [f"first {slug}", f"second {slug}", f"third {slug}"]
    else:
        item["pairs"] = [{"left": f"{side} {slug}", "right": f"{side} right"} for side in "abc"]
    return item


def good_stage() -> dict[str, Any]:
    rng = random.Random(2)
    items = []
    for topic in sorted(TOPICS[STAGE]):
        for kind in KINDS:
            items.append(make_item(len(items), topic, kind, rng))
    return {"stage": STAGE, "items": items}


def good_review(stage: dict[str, Any]) -> dict[str, Any]:
    slugs = [i["slug"] for i in stage["items"] if i["type"] not in ("code", "sql")]
    entries: list[dict[str, Any]] = [
        {"slug": s, "cognitive": "judgement" if n % 2 == 0 else "recall"}
        for n, s in enumerate(slugs)
    ]
    for entry in entries[:9]:
        entry["verdict"] = "OK"
    entries[9].update(verdict="MINOR", note="Reworded the body; the key stands.")
    return {"stage": STAGE, "author": "Ana Writer", "reviewer": "Bo Reviewer", "items": entries}


def good_coverage(stage: dict[str, Any]) -> dict[str, Any]:
    return {"stages": {STAGE: {"cors": [stage["items"][0]["slug"]], "webhooks": []}}}


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    """A bank folder whose stage 2 meets the standard (its manifest lacks one list)."""
    stage = good_stage()
    write(tmp_path / "stage-02.yaml", stage)
    coverage = good_coverage(stage)
    coverage["stages"][STAGE]["webhooks"] = [stage["items"][1]["slug"]]
    write(tmp_path / "coverage.yaml", coverage)
    write(tmp_path / "reviews/stage-02.yaml", good_review(stage))
    return tmp_path


def write(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True))


def as_bank(tmp_path: Path, stage: dict[str, Any]) -> BankFile:
    path = tmp_path / "stage-02.yaml"
    write(path, stage)
    return read_bank_file(path, topics_by_stage=TOPICS)


def messages(problems: list[Any]) -> list[str]:
    return [p.message for p in problems]


# --- the whole standard, through the command --------------------------------------------
def test_a_stage_that_meets_the_standard_passes(
    bank_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stage_file = str(bank_dir / "stage-02.yaml")
    call_command("check_bank", "--no-sandbox", "--policy", "--bank-dir", str(bank_dir), stage_file)
    out = capsys.readouterr().out
    assert "bank OK" in out
    assert (
        "stage  2: 48 items, 48 objective, per-topic minimum 8, T/F 50% true (of 6), "
        "judgement 50% (reviewer), WRONG 0% MINOR 10% of 10 verdicts"
    ) in out
    assert "problems by check: " in out and "counts 0" in out and "reviews 0" in out


def test_named_files_are_checked_without_the_standard_unless_asked(
    bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = good_stage()
    stage["items"] = stage["items"][:5]  # far too few for the standard
    small = tmp_path / "imported" / "stage-02.yaml"
    write(small, stage)
    call_command("check_bank", "--no-sandbox", "--bank-dir", str(bank_dir), str(small))
    out = capsys.readouterr().out
    assert "bank OK" in out and "bank standard" not in out
    with pytest.raises(CommandError):
        call_command(
            "check_bank", "--no-sandbox", "--policy", "--bank-dir", str(bank_dir), str(small)
        )
    assert "stage 2: 5 objective items; the standard is at least 45" in capsys.readouterr().err


def test_the_whole_bank_folder_is_held_to_the_standard_for_every_roadmap_stage(
    bank_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CommandError):
        call_command("check_bank", "--no-sandbox", "--bank-dir", str(bank_dir))
    err = capsys.readouterr().err
    assert f"{bank_dir / 'stage-03.yaml'}: stage 3: no valid bank file" in err
    assert "stage 2:" not in err  # stage 2 itself meets it
    # --no-policy turns it off for the folder too.
    call_command("check_bank", "--no-sandbox", "--no-policy", "--bank-dir", str(bank_dir))
    assert "bank OK" in capsys.readouterr().out


# --- counts, difficulties, true/false --------------------------------------------------------
def test_counts(tmp_path: Path) -> None:
    stage = good_stage()
    assert check_counts(as_bank(tmp_path, stage), TOPICS[STAGE]) == []
    stage["items"] = [i for i in stage["items"] if i["slug"] != "gen-grpc-8"]
    assert messages(check_counts(as_bank(tmp_path, stage), TOPICS[STAGE])) == [
        "stage 2: topic 'grpc' has 7 objective items; the standard is at least 8"
    ]
    strict = Standard(min_objective_per_stage=48)
    assert messages(check_counts(as_bank(tmp_path, stage), TOPICS[STAGE], strict)) == [
        "stage 2: 47 objective items; the standard is at least 48",
        "stage 2: topic 'grpc' has 7 objective items; the standard is at least 8",
    ]


def test_challenges_do_not_count_as_objective_items(tmp_path: Path) -> None:
    stage = good_stage()
    challenge = yaml.safe_load((BASE / "fixtures/questions/stage-02.yaml").read_text())
    python = next(i for i in challenge["items"] if i["type"] == "code")
    python["topic"] = "grpc"
    stage["items"] = [i for i in stage["items"] if i["slug"] != "gen-grpc-8"] + [python]
    [problem] = check_counts(as_bank(tmp_path, stage), TOPICS[STAGE])
    assert (
        problem.message == "stage 2: topic 'grpc' has 7 objective items; the standard is at least 8"
    )
    assert problem.file == str(tmp_path / "stage-02.yaml")


def test_difficulties(tmp_path: Path) -> None:
    stage = good_stage()
    assert check_difficulties(as_bank(tmp_path, stage)) == []
    for item in stage["items"]:
        item["difficulty"] = min(item["difficulty"], 3)
    assert messages(check_difficulties(as_bank(tmp_path, stage))) == [
        "stage 2: no objective item of difficulty 4, 5; each stage spans difficulties 1 to 5"
    ]


@pytest.mark.parametrize(
    ("keys", "fires"),
    [
        ([True, False], False),
        ([True, True, False, False, False], False),  # 40 %
        ([True, True, True, False, False], False),  # 60 %
        ([True, False, False], True),  # 33 %
        ([True, True, True, True, False, False], True),  # 67 %
        ([], False),  # no true/false item, nothing to balance
    ],
)
def test_true_false_share(tmp_path: Path, keys: list[bool], fires: bool) -> None:
    stage = good_stage()
    others = [i for i in stage["items"] if i["type"] != "true_false"]
    tf = [i for i in stage["items"] if i["type"] == "true_false"]
    for item, key in zip(tf, keys, strict=False):
        item["answer"] = key
    stage["items"] = others + tf[: len(keys)]
    found = messages(check_true_share(as_bank(tmp_path, stage)))
    if fires:
        trues = sum(keys)
        assert found == [
            f"stage 2: {trues} of {len(keys)} true/false items are keyed true "
            f"({trues / len(keys):.0%}); keep it between 40% and 60% so that guessing one way "
            "does not pay"
        ]
    else:
        assert found == []


# --- samples and answer cues ---------------------------------------------------------------
def test_typed_answers_must_list_samples(tmp_path: Path) -> None:
    stage = good_stage()
    assert check_samples_listed(as_bank(tmp_path, stage)) == []
    numeric = next(i for i in stage["items"] if i["type"] == "numeric")
    short = next(i for i in stage["items"] if i["type"] == "short_text")
    del numeric["samples"], short["samples"]
    problems = check_samples_listed(as_bank(tmp_path, stage))
    assert [(p.slug, p.message) for p in problems] == [
        (
            numeric["slug"],
            "a numeric item needs 'samples': an 'accept' list (what a learner who knows the "
            "answer types) and a 'reject' list (near misses)",
        ),
        (
            short["slug"],
            "a short_text item needs 'samples': an 'accept' list (what a learner who knows the "
            "answer types) and a 'reject' list (near misses)",
        ),
    ]
    # The problem names the item's line in its file.
    source = (tmp_path / "stage-02.yaml").read_text().splitlines()
    assert source[problems[0].line - 1].strip() == f"- slug: {numeric['slug']}"


def test_a_single_choice_key_that_is_clearly_the_longest_is_flagged(tmp_path: Path) -> None:
    stage = good_stage()
    assert check_answer_cues(as_bank(tmp_path, stage)) == []
    single = next(i for i in stage["items"] if i["type"] == "single_choice")
    single["choices"][0]["text"] = "The key, which explains itself at length so nobody misses it"
    [problem] = check_answer_cues(as_bank(tmp_path, stage))
    assert problem.slug == single["slug"]
    assert problem.message.startswith("the key is clearly the longest option (60 characters")


# --- the coverage manifest --------------------------------------------------------------
def coverage_problems(
    tmp_path: Path, manifest: Any, stage: dict[str, Any] | None = None
) -> list[str]:
    stage = stage or good_stage()
    bank = as_bank(tmp_path, stage)
    path = tmp_path / "coverage.yaml"
    if manifest is not None:
        path.write_text(manifest if isinstance(manifest, str) else yaml.safe_dump(manifest))
    return [str(p) for p in check_coverage(path, {STAGE: bank}, [STAGE], TOPICS)]


def test_coverage_lists_items_of_the_stage_for_every_concept(tmp_path: Path) -> None:
    stage = good_stage()
    first = stage["items"][0]["slug"]
    path = tmp_path / "coverage.yaml"
    assert coverage_problems(tmp_path, {"stages": {2: {"cors": [first]}}}) == []
    assert coverage_problems(tmp_path, {"stages": {2: {"cors": [first], "webhooks": []}}}) == [
        f"{path}: stage 2: concept 'webhooks' lists no item; name the items that test it"
    ]
    assert coverage_problems(tmp_path, {"stages": {2: {"cors": [first, "no-such-item"]}}}) == [
        f"{path} [no-such-item]: stage 2: concept 'cors' lists 'no-such-item', which is not an "
        "item of stage-02.yaml"
    ]
    # An item of another stage is not enough.
    assert coverage_problems(tmp_path, "stages:\n  2:\n    cors:\n      - db-some-item\n") == [
        f"{path} [db-some-item]: stage 2: concept 'cors' lists 'db-some-item', which is not an "
        "item of stage-02.yaml"
    ]


def test_coverage_manifest_form(tmp_path: Path) -> None:
    path = tmp_path / "coverage.yaml"
    assert coverage_problems(tmp_path, None) == [
        f"{path}: no coverage manifest: write it (see README)"
    ]
    assert coverage_problems(tmp_path, {"stage": {}}) == [
        f"{path}: expected a mapping 'stages: {{2: {{concept: [slugs]}}}}'"
    ]
    assert coverage_problems(tmp_path, {"stages": {2: {"Not Kebab": []}, 99: {"x": []}}}) == [
        f"{path}: stage 2: concept 'Not Kebab' is not kebab-case",
        f"{path}: stage 99 is not a roadmap stage",
    ]
    assert coverage_problems(tmp_path, {"stages": {2: {"cors": "one-slug"}}}) == [
        f"{path}: stage 2: concept 'cors' must list item slugs"
    ]


REQUIRED_CONCEPTS = {
    2: {"cors", "problem-details", "webhooks", "idempotency-keys"},
    3: {"zero-downtime-migrations", "mongodb-beyond-basics", "redis-beyond-basics"},
    5: {"oidc", "csrf-beyond-samesite", "refresh-token-rotation", "mfa", "service-to-service-auth"},
    6: {"consistency-and-cap", "replication-and-consensus", "circuit-breakers", "cqrs"},
    7: {"schema-evolution", "kafka-transactions", "consumer-lag"},
    8: {
        "logging",
        "alerting-and-slos",
        "deploy-strategies",
        "ingress-hpa-readiness",
        "infrastructure-as-code",
    },
    9: {"vpc-and-security-groups", "iam-policy-evaluation", "azure"},
    10: {"xss", "csp", "supply-chain"},
    11: {"races-and-locking", "test-strategy", "contract-tests", "memory-profiling"},
}


def test_the_roadmap_manifest_names_the_required_concepts() -> None:
    manifest = yaml.safe_load((BASE / "fixtures/questions/coverage.yaml").read_text())
    for stage, concepts in REQUIRED_CONCEPTS.items():
        missing = concepts - set(manifest["stages"].get(stage) or {})
        assert not missing, f"stage {stage} lacks {sorted(missing)}"


# --- cold reviews ---------------------------------------------------------------------
def review_problems(
    tmp_path: Path,
    change: Callable[[dict[str, Any]], Any] | None = None,
    stage: dict[str, Any] | None = None,
) -> tuple[list[str], StageSummary]:
    stage = stage or good_stage()
    review = good_review(stage)
    if change:
        change(review)
    path = tmp_path / "reviews" / "stage-02.yaml"
    write(path, review)
    summary = StageSummary(stage=STAGE)
    found = check_review(path, as_bank(tmp_path, stage), summary)
    return [f"{p.slug or '-'}: {p.message}" for p in found], summary


def test_a_complete_cold_review_passes_and_is_summarised(tmp_path: Path) -> None:
    found, summary = review_problems(tmp_path)
    assert found == []
    assert (summary.judgement_share, summary.verdicts, summary.minor, summary.wrong) == (
        0.5,
        10,
        1,
        0,
    )


def test_a_missing_review(tmp_path: Path) -> None:
    path = tmp_path / "reviews" / "stage-02.yaml"
    summary = StageSummary(stage=STAGE)
    [problem] = check_review(path, as_bank(tmp_path, good_stage()), summary)
    assert str(problem) == (
        f"{path}: stage 2 review: missing; a reviewer other than the author writes stage-02.yaml"
    )
    assert not summary.reviewed


def _entry(review: dict[str, Any], n: int) -> dict[str, Any]:
    entry: dict[str, Any] = review["items"][n]
    return entry


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: r.update(reviewer=" ana  WRITER "),
            ["-: stage 2 review: the reviewer must not be the author: a review is cold"],
        ),
        (lambda r: r.update(author=""), ["-: stage 2 review: 'author' must name a person"]),
        (lambda r: r.update(stage=3), ["-: stage 2 review: 'stage' is 3, not 2"]),
        (
            lambda r: r["items"].pop(),
            ["gen-versioning-47: stage 2 review: no entry with the reviewer's label"],
        ),
        (
            lambda r: r["items"].append({"slug": "gen-nothing", "cognitive": "recall"}),
            ["gen-nothing: stage 2 review: 'gen-nothing' is no item of stage-02.yaml"],
        ),
        (
            lambda r: r["items"].append(dict(r["items"][0])),
            ["gen-graphql-0: stage 2 review: reviewed twice"],
        ),
        (
            lambda r: (
                r["items"].append({"slug": "gen-graphql-0", "cognitive": "recall"})
                or _entry(r, 0).update(cognitive=None)
            ),
            [
                "gen-graphql-0: stage 2 review: 'cognitive' must be the reviewer's label, "
                "'judgement' or 'recall'",
                "gen-graphql-0: stage 2 review: reviewed twice",
                "-: stage 2 review: the reviewer labels 23 of 48 objective items judgement "
                "(48%); the standard is at least 50%",
            ],
        ),
        (
            lambda r: _entry(r, 0).update(cognitive="hard"),
            [
                "gen-graphql-0: stage 2 review: 'cognitive' must be the reviewer's label, "
                "'judgement' or 'recall'",
                "-: stage 2 review: the reviewer labels 23 of 48 objective items judgement "
                "(48%); the standard is at least 50%",
            ],
        ),
        (
            lambda r: _entry(r, 0).pop("verdict"),
            [
                "-: stage 2 review: 9 items answered cold (with a verdict); the standard is "
                "at least 10"
            ],
        ),
        (
            lambda r: _entry(r, 0).update(verdict="wrong"),
            [
                "gen-graphql-0: stage 2 review: 'verdict' must be one of OK, MINOR, WRONG",
                "-: stage 2 review: 9 items answered cold (with a verdict); the standard is "
                "at least 10",
            ],
        ),
        (
            lambda r: _entry(r, 9).pop("note"),
            [
                "gen-grpc-9: stage 2 review: a MINOR verdict needs a 'note': what was found "
                "and what was done"
            ],
        ),
        (
            lambda r: _entry(r, 0).update(verdict="WRONG", note="The key was B; fixed to C."),
            [
                "gen-graphql-0: stage 2 review: a WRONG verdict must be fixed, then marked "
                "'resolved: true' (the note says how)"
            ],
        ),
        (
            lambda r: _entry(r, 0).update(verdict="WRONG", note="Key fixed.", resolved=True),
            [],
        ),
        (
            lambda r: _entry(r, 0).update(mood="fine"),
            ["gen-graphql-0: stage 2 review: unknown field(s) mood"],
        ),
    ],
)
def test_review_problems(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], expected: list[str]
) -> None:
    assert review_problems(tmp_path, change)[0] == expected


def test_the_reviewers_label_counts_not_the_authors(tmp_path: Path) -> None:
    # The author calls everything judgement; the reviewer calls 23 of 48 so.
    def fewer(review: dict[str, Any]) -> None:
        _entry(review, 46).update(cognitive="recall")

    found, summary = review_problems(tmp_path, fewer)
    assert found == [
        "-: stage 2 review: the reviewer labels 23 of 48 objective items judgement (48%); the "
        "standard is at least 50%"
    ]
    assert summary.judgement_share == pytest.approx(23 / 48)


def test_a_challenge_is_not_reviewed_here(tmp_path: Path) -> None:
    stage = good_stage()
    source = yaml.safe_load((BASE / "fixtures/questions/stage-02.yaml").read_text())
    python = next(i for i in source["items"] if i["type"] == "code")
    stage["items"].append(python)

    def add(review: dict[str, Any]) -> None:
        review["items"].append({"slug": python["slug"], "cognitive": "judgement"})

    found, _ = review_problems(tmp_path, add, stage)
    assert found == [
        f"{python['slug']}: stage 2 review: {python['slug']!r} is a challenge, not an objective "
        "item of stage-02.yaml"
    ]


def test_review_entries_name_their_line(tmp_path: Path) -> None:
    review = good_review(good_stage())
    _entry(review, 3)["verdict"] = "MAYBE"
    path = tmp_path / "reviews" / "stage-02.yaml"
    write(path, review)
    found = check_review(path, as_bank(tmp_path, good_stage()), StageSummary(stage=STAGE))
    problem = next(p for p in found if "'verdict'" in p.message)
    assert path.read_text().splitlines()[problem.line - 1].strip() == f"- slug: {problem.slug}"


def test_check_policy_summarises_each_stage(bank_dir: Path) -> None:
    bank = read_bank_file(bank_dir / "stage-02.yaml", topics_by_stage=TOPICS)
    report = check_policy(files=[bank], stages=[2], topics_by_stage=TOPICS, bank_dir=bank_dir)
    assert report.problems == []
    assert list(report.by_check) == [
        "counts",
        "difficulties",
        "true/false share",
        "samples",
        "answer cues",
        "reviews",
        "coverage",
    ]
    [summary] = report.summaries
    assert (summary.items, summary.objective, summary.topic_minimum, summary.true_false) == (
        48,
        48,
        8,
        6,
    )
