"""The roadmap bank's standard: what `check_bank` demands of fixtures/questions on top of
valid items (fixtures/questions/README.md, "The bank standard").

Per stage: enough objective items (per topic and in all), every difficulty from 1 to 5,
true/false keys split between true and false, typed answers with samples, no single-choice
key that gives itself away by its length, a coverage manifest naming the items that test
each required concept, and a cold review by someone other than the author. Each check
returns problems naming the file, the stage and the item; ``check_policy`` runs them all
and summarises each stage. Imported or instructor files are checked without this standard
(``check_bank <paths>``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quizzes.bank.loader import BankFile, Problem, item_lines, load_yaml_with_lines
from quizzes.itemtypes import ItemTypeHandler, handler_for
from quizzes.itemtypes.base import LINE_KEY, Data
from quizzes.models import Cognitive

COVERAGE_FILE = "coverage.yaml"
REVIEWS_DIR = "reviews"
VERDICTS = ("OK", "MINOR", "WRONG")
_CONCEPT_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REVIEW_KEYS = {"stage", "author", "reviewer", "items"}
_ENTRY_KEYS = {"slug", "cognitive", "verdict", "note", "resolved"}


@dataclass(frozen=True)
class Standard:
    """The numbers of the bank standard (README: "The bank standard")."""

    min_objective_per_topic: int = 8
    min_objective_per_stage: int = 45
    difficulties: tuple[int, ...] = (1, 2, 3, 4, 5)
    true_share: tuple[float, float] = (0.4, 0.6)
    min_verdicts: int = 10
    min_judgement_share: float = 0.5


STANDARD = Standard()


@dataclass
class StageSummary:
    stage: int
    items: int = 0
    objective: int = 0
    topic_minimum: int | None = None
    true_false: int = 0
    true_share: float | None = None
    reviewed: bool = False
    judgement_share: float | None = None
    verdicts: int = 0
    wrong: int = 0
    minor: int = 0

    def line(self) -> str:
        def share(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.0%}"

        topic = "n/a" if self.topic_minimum is None else str(self.topic_minimum)
        review = (
            f"judgement {share(self.judgement_share)} (reviewer), "
            f"WRONG {share(self.wrong / self.verdicts if self.verdicts else None)} "
            f"MINOR {share(self.minor / self.verdicts if self.verdicts else None)} "
            f"of {self.verdicts} verdicts"
            if self.reviewed
            else "no review"
        )
        return (
            f"stage {self.stage:>2}: {self.items} items, {self.objective} objective, "
            f"per-topic minimum {topic}, T/F {share(self.true_share)} true "
            f"(of {self.true_false}), {review}"
        )


@dataclass
class PolicyReport:
    # Each check's problems, by the check's name, in the order the checks ran.
    by_check: dict[str, list[Problem]] = field(default_factory=dict)
    summaries: list[StageSummary] = field(default_factory=list)

    def add(self, check: str, problems: list[Problem]) -> None:
        self.by_check.setdefault(check, []).extend(problems)

    @property
    def problems(self) -> list[Problem]:
        return [p for found in self.by_check.values() for p in found]


Built = list[tuple[dict[str, Any], ItemTypeHandler, Data]]


def built_items(bank: BankFile) -> Built:
    """Each item with its handler and version data (built once: choices render Markdown)."""
    built = []
    for item in bank.items:
        handler = handler_for(item["type"])
        built.append((item, handler, handler.build_data(item)))
    return built


def objective_items(bank: BankFile) -> list[dict[str, Any]]:
    """Items scored without the sandbox (what a quiz mostly draws)."""
    return [i for i in bank.items if not handler_for(i["type"]).needs_sandbox]


def _stage_file(bank_dir: Path, stage: int) -> Path:
    return bank_dir / f"stage-{stage:02d}.yaml"


# --- per stage: counts, difficulty, true/false ------------------------------------------
def check_counts(bank: BankFile, topics: set[str], standard: Standard = STANDARD) -> list[Problem]:
    """At least ``min_objective_per_topic`` objective items on each of the stage's roadmap
    topics, and ``min_objective_per_stage`` in all."""
    objective = objective_items(bank)
    per_topic = Counter(i["topic"] for i in objective)
    problems = []
    if len(objective) < standard.min_objective_per_stage:
        problems.append(
            _stage_problem(
                bank,
                f"{len(objective)} objective items; the standard is at least "
                f"{standard.min_objective_per_stage}",
            )
        )
    for topic in sorted(topics):
        if per_topic[topic] < standard.min_objective_per_topic:
            problems.append(
                _stage_problem(
                    bank,
                    f"topic {topic!r} has {per_topic[topic]} objective items; the standard is "
                    f"at least {standard.min_objective_per_topic}",
                )
            )
    return problems


def check_difficulties(bank: BankFile, standard: Standard = STANDARD) -> list[Problem]:
    """Every difficulty of ``standard.difficulties`` among the stage's objective items."""
    present = {i["difficulty"] for i in objective_items(bank)}
    missing = [d for d in standard.difficulties if d not in present]
    if not missing:
        return []
    return [
        _stage_problem(
            bank,
            f"no objective item of difficulty {', '.join(map(str, missing))}; each stage spans "
            f"difficulties {standard.difficulties[0]} to {standard.difficulties[-1]}",
        )
    ]


def true_false_keys(bank: BankFile, built: Built | None = None) -> list[bool]:
    keys = []
    for _, handler, data in built or built_items(bank):
        key = handler.boolean_key(data)
        if key is not None:
            keys.append(key)
    return keys


def check_true_share(
    bank: BankFile, standard: Standard = STANDARD, built: Built | None = None
) -> list[Problem]:
    """The stage's true/false items keyed true between 40 % and 60 % (inclusive), so that
    always answering "true" (or "false") does not pay. A stage without any is fine."""
    keys = true_false_keys(bank, built)
    low, high = standard.true_share
    trues = sum(keys)
    if not keys or low * len(keys) <= trues <= high * len(keys):
        return []
    return [
        _stage_problem(
            bank,
            f"{trues} of {len(keys)} true/false items are keyed true ({trues / len(keys):.0%}); "
            f"keep it between {low:.0%} and {high:.0%} so that guessing one way does not pay",
        )
    ]


# --- per item: samples and answer cues --------------------------------------------------
def check_samples_listed(bank: BankFile) -> list[Problem]:
    """Every item with a typed answer (number, short text) lists ``samples`` with both
    ``accept`` and ``reject``: the check scores them, which proves the answer forms work."""
    found = []
    for item in bank.items:
        if handler_for(item["type"]).typed_answer_field is None:
            continue
        samples = item.get("samples")
        if not isinstance(samples, dict):
            found.append(
                (
                    item["slug"],
                    f"a {item['type']} item needs 'samples': an 'accept' list (what a learner "
                    "who knows the answer types) and a 'reject' list (near misses)",
                )
            )
            continue
        missing = [key for key in ("accept", "reject") if not samples.get(key)]
        if missing:
            found.append(
                (
                    item["slug"],
                    f"'samples' needs a non-empty {' and '.join(map(repr, missing))} list",
                )
            )
    return _item_problems(bank, found)


def check_answer_cues(bank: BankFile, built: Built | None = None) -> list[Problem]:
    """Each type's surface cues (a single-choice key that is clearly the longest option)."""
    found = [
        (item["slug"], cue)
        for item, handler, data in built or built_items(bank)
        for cue in handler.answer_cues(data)
    ]
    return _item_problems(bank, found)


def _item_problems(bank: BankFile, found: list[tuple[str, str]]) -> list[Problem]:
    """Problems of items, each with its line (the file is read again only when needed)."""
    lines = item_lines(bank.path) if found else {}
    return [Problem(str(bank.path), lines.get(slug), slug, message) for slug, message in found]


# --- the coverage manifest --------------------------------------------------------------
def read_coverage(path: Path) -> tuple[dict[int, dict[str, list[str]]], list[Problem]]:
    """The manifest as {stage: {concept: [item slug, …]}}, and its problems of form."""
    name = str(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError:
        return {}, [Problem(name, None, None, "no coverage manifest: write it (see README)")]
    except yaml.YAMLError as exc:
        return {}, [Problem(name, None, None, f"invalid YAML: {exc}")]
    stages = raw.get("stages") if isinstance(raw, dict) else None
    if not isinstance(stages, dict):
        return {}, [
            Problem(name, None, None, "expected a mapping 'stages: {2: {concept: [slugs]}}'")
        ]
    manifest: dict[int, dict[str, list[str]]] = {}
    problems = []
    for stage, concepts in stages.items():
        if not isinstance(stage, int) or isinstance(stage, bool):
            problems.append(Problem(name, None, None, f"stage {stage!r} is not a stage number"))
            continue
        if not isinstance(concepts, dict):
            problems.append(
                Problem(name, None, None, f"stage {stage}: expected concepts mapped to slugs")
            )
            continue
        manifest[stage] = {}
        for concept, slugs in concepts.items():
            if not isinstance(concept, str) or not _CONCEPT_RE.match(concept):
                problems.append(
                    Problem(
                        name, None, None, f"stage {stage}: concept {concept!r} is not kebab-case"
                    )
                )
                continue
            if slugs is None:
                slugs = []
            if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
                problems.append(
                    Problem(
                        name, None, None, f"stage {stage}: concept {concept!r} must list item slugs"
                    )
                )
                continue
            manifest[stage][concept] = slugs
    return manifest, problems


def check_coverage(
    path: Path, banks: dict[int, BankFile], stages: Iterable[int], known_stages: Iterable[int]
) -> list[Problem]:
    """Every concept of the checked stages lists at least one item, and every listed slug is
    an item of that stage's file."""
    manifest, problems = read_coverage(path)
    name = str(path)
    known = set(known_stages)
    for stage in sorted(set(manifest) - known):
        problems.append(Problem(name, None, None, f"stage {stage} is not a roadmap stage"))
    for stage in sorted(set(stages) & set(manifest)):
        bank = banks.get(stage)
        slugs = {i["slug"] for i in bank.items} if bank else set()
        where = bank.path.name if bank else f"stage-{stage:02d}.yaml"
        for concept, listed in manifest[stage].items():
            if not listed:
                problems.append(
                    Problem(
                        name,
                        None,
                        None,
                        f"stage {stage}: concept {concept!r} lists no item; name the items that "
                        "test it",
                    )
                )
            for slug in listed:
                if slug not in slugs:
                    problems.append(
                        Problem(
                            name,
                            None,
                            slug,
                            f"stage {stage}: concept {concept!r} lists {slug!r}, which is not an "
                            f"item of {where}",
                        )
                    )
    return problems


# --- cold reviews -----------------------------------------------------------------------
def check_review(
    path: Path, bank: BankFile, summary: StageSummary, standard: Standard = STANDARD
) -> list[Problem]:
    """The stage's cold review (reviews/stage-NN.yaml): a reviewer who is not the author
    labels every objective item judgement or recall and answers a sample of at least
    ``min_verdicts`` cold (OK, MINOR, WRONG, with a note for the last two; a WRONG item must
    be resolved). At least ``min_judgement_share`` of the objective items must be judgement
    by the reviewer's label (the author's ``cognitive`` does not count). Fills ``summary``."""
    name = str(path)
    stage = bank.stage

    def problem(message: str, line: int | None = None, slug: str | None = None) -> Problem:
        return Problem(name, line, slug, f"stage {stage} review: {message}")

    try:
        raw = load_yaml_with_lines(path.read_text())
    except OSError:
        return [problem(f"missing; a reviewer other than the author writes {path.name}")]
    except yaml.YAMLError as exc:
        return [problem(f"invalid YAML: {exc}")]
    if not isinstance(raw, dict):
        return [problem("expected a mapping with 'stage', 'author', 'reviewer' and 'items'")]
    summary.reviewed = True
    problems = []
    unknown = set(raw) - _REVIEW_KEYS - {LINE_KEY}
    if unknown:
        problems.append(problem(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}"))
    if raw.get("stage") != stage:
        problems.append(problem(f"'stage' is {raw.get('stage')!r}, not {stage}"))
    people = {}
    for key in ("author", "reviewer"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(problem(f"'{key}' must name a person"))
        else:
            people[key] = " ".join(value.split()).casefold()
    if len(people) == 2 and people["author"] == people["reviewer"]:
        problems.append(problem("the reviewer must not be the author: a review is cold"))
    entries = raw.get("items")
    if not isinstance(entries, list):
        problems.append(problem("'items' must list one entry per objective item"))
        entries = []
    objective = {i["slug"]: i for i in objective_items(bank)}
    seen: set[str] = set()
    labels: dict[str, str] = {}
    verdicts: Counter[str] = Counter()
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(problem(f"entry #{n} is not a mapping"))
            continue
        line, slug = entry.get(LINE_KEY), entry.get("slug")
        if not isinstance(slug, str):
            problems.append(problem(f"entry #{n} needs 'slug'", line))
            continue

        def bad(message: str, line: int | None = line, slug: str = slug) -> None:
            problems.append(problem(message, line, slug))

        unknown = set(entry) - _ENTRY_KEYS - {LINE_KEY}
        if unknown:
            bad(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        if slug in seen:
            bad("reviewed twice")
            continue
        seen.add(slug)
        if slug not in objective:
            what = "a challenge, not an objective item" if _has(bank, slug) else "no item"
            bad(f"{slug!r} is {what} of {bank.path.name}")
            continue
        cognitive = entry.get("cognitive")
        if cognitive not in Cognitive.values:
            bad("'cognitive' must be the reviewer's label, 'judgement' or 'recall'")
        else:
            labels[slug] = str(cognitive)
        verdict = entry.get("verdict")
        if verdict is None:
            continue
        if verdict not in VERDICTS:
            bad(f"'verdict' must be one of {', '.join(VERDICTS)}")
            continue
        verdicts[verdict] += 1
        note = entry.get("note")
        if verdict != "OK" and (not isinstance(note, str) or not note.strip()):
            bad(f"a {verdict} verdict needs a 'note': what was found and what was done")
        if verdict == "WRONG" and entry.get("resolved") is not True:
            bad("a WRONG verdict must be fixed, then marked 'resolved: true' (the note says how)")
    for slug in objective:
        if slug not in seen:
            problems.append(problem("no entry with the reviewer's label", None, slug))
    answered = sum(verdicts.values())
    if answered < standard.min_verdicts:
        problems.append(
            problem(
                f"{answered} items answered cold (with a verdict); the standard is at least "
                f"{standard.min_verdicts}"
            )
        )
    judgement = sum(1 for label in labels.values() if label == Cognitive.JUDGEMENT)
    if objective:
        share = judgement / len(objective)
        summary.judgement_share = share
        if share < standard.min_judgement_share:
            problems.append(
                problem(
                    f"the reviewer labels {judgement} of {len(objective)} objective items "
                    f"judgement ({share:.0%}); the standard is at least "
                    f"{standard.min_judgement_share:.0%}"
                )
            )
    summary.verdicts, summary.wrong, summary.minor = answered, verdicts["WRONG"], verdicts["MINOR"]
    return problems


def _has(bank: BankFile, slug: str) -> bool:
    return any(i["slug"] == slug for i in bank.items)


def _stage_problem(bank: BankFile, message: str) -> Problem:
    return Problem(str(bank.path), None, None, f"stage {bank.stage}: {message}")


# --- all of it --------------------------------------------------------------------------
def check_policy(
    *,
    files: list[BankFile],
    stages: Iterable[int],
    topics_by_stage: dict[int, set[str]],
    bank_dir: Path,
    standard: Standard = STANDARD,
) -> PolicyReport:
    """The standard for ``stages`` (a stage without a readable file is a problem too)."""
    report = PolicyReport()
    banks = {bank.stage: bank for bank in files}
    stages = sorted(set(stages))
    for stage in stages:
        bank = banks.get(stage)
        summary = StageSummary(stage=stage)
        report.summaries.append(summary)
        if bank is None:
            missing = Problem(
                str(_stage_file(bank_dir, stage)), None, None, f"stage {stage}: no valid bank file"
            )
            report.add("counts", [missing])
            continue
        topics = topics_by_stage.get(stage, set())
        objective = objective_items(bank)
        per_topic = Counter(i["topic"] for i in objective)
        built = built_items(bank)
        keys = true_false_keys(bank, built)
        summary.items, summary.objective = len(bank.items), len(objective)
        summary.topic_minimum = min((per_topic[t] for t in topics), default=None)
        summary.true_false = len(keys)
        summary.true_share = sum(keys) / len(keys) if keys else None
        report.add("counts", check_counts(bank, topics, standard))
        report.add("difficulties", check_difficulties(bank, standard))
        report.add("true/false share", check_true_share(bank, standard, built))
        report.add("samples", check_samples_listed(bank))
        report.add("answer cues", check_answer_cues(bank, built))
        review = bank_dir / REVIEWS_DIR / f"stage-{stage:02d}.yaml"
        report.add("reviews", check_review(review, bank, summary, standard))
    report.add(
        "coverage",
        check_coverage(bank_dir / COVERAGE_FILE, banks, stages, known_stages=topics_by_stage),
    )
    return report
