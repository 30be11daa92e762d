"""Whole-bank validation for `manage.py check_bank`: fields, rendering, and challenges
proven in the sandbox (the reference passes everything; each wrong solution passes every
visible test yet fails a hidden one, of the rule it breaks and of no other: see rules.py)."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quizzes.bank.loader import LANGUAGES_DIR, BankFile, BankFileError, Problem, read_bank_file
from quizzes.bank.mutation import MUTATION_FILE, check_mutation_records
from quizzes.bank.policy import StageSummary, check_policy
from quizzes.bank.roadmap import read_roadmap_file
from quizzes.bank.rules import check_breaks_only, check_rules, wrong_solution_label
from quizzes.grading.languages import LANGUAGES
from quizzes.grading.outcomes import ReportStatus
from quizzes.grading.runner import GradeReport
from quizzes.itemtypes import challenge_handler_for, handler_for
from quizzes.itemtypes.base import strip_lines
from quizzes.markdown import render_markdown

NEAR_DUPLICATE_RATIO = 0.85
# Before difflib's exact (and slow) ratio, a pair must share enough of its 4-character
# shingles (Dice coefficient of the two sets). Pairs at the 0.85 ratio share about 0.7 of
# them and unrelated items of one subject under 0.3, so 0.5 keeps the real pairs and drops
# nearly all others: ~600 items take a second or so (bench/bank_check.py), not a minute.
_SHINGLE_CHARS = 4
_SHINGLE_DICE = 0.5


@dataclass
class BankCheck:
    files: list[BankFile]
    problems: list[Problem]
    challenges_checked: int = 0
    # Solutions run per language (reference and wrong ones), and the languages skipped
    # because this host cannot grade them, with the reason.
    solutions_checked: Counter[str] = field(default_factory=Counter)
    skipped_languages: dict[str, str] = field(default_factory=dict)
    # How many problems each check found, by name (the policy's checks included).
    counts: Counter[str] = field(default_factory=Counter)
    # One per stage checked against the bank standard (empty without the policy).
    summaries: list[StageSummary] = field(default_factory=list)

    def add(self, check: str, problems: Iterable[Problem]) -> None:
        found = list(problems)
        self.problems += found
        self.counts[check] += len(found)


def roadmap_topics(roadmap_path: Path) -> dict[int, set[str]]:
    return {
        s["number"]: {t["slug"] for t in s.get("topics") or []}
        for s in read_roadmap_file(roadmap_path)
    }


def near_duplicates(items: Iterable[tuple[str, str]]) -> list[tuple[str, str, float]]:
    """Pairs of (slug, text) whose texts are nearly the same (difflib's ratio of at least
    ``NEAR_DUPLICATE_RATIO``, case and whitespace aside), in the order the items came."""
    entries = [(slug, " ".join(text.lower().split())) for slug, text in items]
    shingles = [
        frozenset(text[i : i + _SHINGLE_CHARS] for i in range(len(text) - _SHINGLE_CHARS + 1))
        for _, text in entries
    ]
    # By length: a ratio is at most 2·shorter/(both lengths), so once the next text is too
    # long for the current one, every later one is too.
    order = sorted(range(len(entries)), key=lambda n: len(entries[n][1]))
    longest_partner = 2 / NEAR_DUPLICATE_RATIO - 1
    found = []
    for position, i in enumerate(order):
        a, shingles_a = entries[i][1], shingles[i]
        for j in order[position + 1 :]:
            b, shingles_b = entries[j][1], shingles[j]
            if len(b) > len(a) * longest_partner:
                break
            common = len(shingles_a & shingles_b)
            if 2 * common < _SHINGLE_DICE * (len(shingles_a) + len(shingles_b)):
                continue
            ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
            if ratio >= NEAR_DUPLICATE_RATIO:
                found.append((min(i, j), max(i, j), ratio))
    return [(entries[i][0], entries[j][0], ratio) for i, j, ratio in sorted(found)]


def grade_source(
    item_type: str,
    challenge: dict[str, Any],
    source: str,
    slot: int,
    language: str | None = None,
) -> GradeReport:
    handler = challenge_handler_for(item_type)
    return handler.grade(handler.parse_spec(challenge), source, language=language, slot=slot)


def checked_languages(item_type: str, challenge: dict[str, Any]) -> list[str]:
    """The languages a challenge's solutions are checked in (its type's own first)."""
    handler = challenge_handler_for(item_type)
    return handler.solution_languages(handler.parse_spec(challenge))


@dataclass
class SolutionRun:
    """One solution of a challenge run against every test: the reference, or a wrong one,
    in one language."""

    role: str  # "reference" or "wrong"
    label: str
    report: GradeReport | None  # None: the language has no such solution
    problems: list[str]
    language: str = ""

    def to_dict(self) -> dict[str, Any]:
        """For authors only: the outcome of every test, hidden ones included."""
        report = self.report
        return {
            "role": self.role,
            "label": self.label,
            "language": self.language,
            "status": str(report.status) if report else "missing",
            "message": report.message if report else "; ".join(self.problems),
            "ok": not self.problems,
            "problems": self.problems,
            "outcomes": [
                {
                    "name": o.name,
                    "visible": o.visible,
                    "passed": o.passed,
                    "category": str(o.category),
                    "expected": o.expected_repr,
                    "actual": o.actual_repr,
                }
                for o in (report.outcomes if report else ())
            ],
        }


def challenge_runs(
    item: dict[str, Any],
    slot: int,
    *,
    skip: frozenset[str] = frozenset(),
    counts: Counter[str] | None = None,
) -> list[SolutionRun]:
    """Run a challenge's reference and wrong solutions in the sandbox, in every language it
    is offered in (except those in ``skip``, which this host cannot grade), and judge them:
    the reference passes every test; each wrong solution passes every visible test and
    fails a hidden one (of the rule it breaks, and of no other). Raises
    ``SandboxUnavailable`` when nothing could run."""
    challenge = item["challenge"]
    handler = challenge_handler_for(item["type"])
    spec = handler.parse_spec(strip_lines(challenge))
    languages = handler.solution_languages(spec)
    runs: list[SolutionRun] = []
    for language in languages:
        if language in skip:
            continue
        material = handler.solutions(spec, language)
        where = "" if language == languages[0] else f"{language}: "
        if material is None:
            message = f"{where}no reference solution (languages/{item['slug']}/{language}.yaml)"
            runs.append(
                SolutionRun("reference", f"{where}reference solution", None, [message], language)
            )
            continue
        reference_source, wrong_solutions = material
        reference = grade_source(item["type"], challenge, reference_source, slot, language)
        if counts is not None:
            counts[language] += 1 + len(wrong_solutions)
        failed = [o.name for o in reference.outcomes if not o.passed]
        problems = []
        if reference.status != ReportStatus.GRADED or failed:
            problems.append(
                f"{where}reference solution does not pass: {reference.status} "
                f"{reference.message} failed={failed}"
            )
        if where and not wrong_solutions:
            problems.append(f"{where}no wrong solution: add one that passes the visible tests")
        runs.append(
            SolutionRun("reference", f"{where}reference solution", reference, problems, language)
        )
        for n, wrong in enumerate(wrong_solutions, start=1):
            report = grade_source(item["type"], challenge, wrong.source, slot, language)
            visible_failed = [o.name for o in report.outcomes if o.visible and not o.passed]
            hidden_failed = [o.name for o in report.outcomes if not o.visible and not o.passed]
            label = where + wrong_solution_label(n, wrong)
            problems = []
            if report.status != ReportStatus.GRADED or visible_failed:
                problems.append(f"{label} should pass every visible test; fails {visible_failed}")
            if not hidden_failed:
                problems.append(f"{label} passes every hidden test: the tests miss its mistake")
            if where and (wrong.breaks is None or wrong.author is None):
                problems.append(f"{label} needs `breaks:` (the rule it breaks) and `author:`")
            problems += [
                where + m if where else m for m in check_breaks_only(spec, n, wrong, report)
            ]
            runs.append(SolutionRun("wrong", label, report, problems, language))
    return runs


def check_challenge(
    path: Path,
    item: dict[str, Any],
    slot: int,
    *,
    skip: frozenset[str] = frozenset(),
    counts: Counter[str] | None = None,
) -> list[Problem]:
    return [
        Problem(str(path), None, item["slug"], message)
        for run in challenge_runs(item, slot, skip=skip, counts=counts)
        for message in run.problems
    ]


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.split()]
    # Whole words only; and a number is not found inside another ('250 ms' in '0.250 ms').
    return re.compile(
        r"(?<![\w-])(?<!\d[.,])" + r"\s+".join(words) + r"(?![\w-])(?![.,]\d)", re.IGNORECASE
    )


def _prose(text: str) -> str:
    """Text as read, for finding phrases: code marks dropped (`HttpOnly` reads HttpOnly)."""
    return text.replace("`", "")


def answers_given_away(bank: BankFile) -> list[Problem]:
    """Items of one stage whose accepted answer another item of the stage spells out.

    A stage's items are drawn into the same quizzes, so a phrase that answers one item,
    shown in another item's title, body or options, gives the answer away. The phrases are
    each type's ``bank_answer_phrases``: short-text accepted answers (and what the samples
    accept), a numeric answer with its unit, the text of a correct choice. A choice's key is
    among its own options anyway, so for it only another item's title or body counts.
    Phrases of fewer than four characters (short numbers, short acronyms) are too common
    to judge.
    """
    stated: dict[str, str] = {}
    shown: dict[str, str] = {}
    phrases: dict[str, list[str]] = {}
    for item in bank.items:
        handler = handler_for(item["type"])
        data = handler.build_data(item)
        stated[item["slug"]] = _prose(f"{item['title']} {item['body']}")
        shown[item["slug"]] = _prose(
            " ".join([item["title"], item["body"], *handler.shown_texts(data)])
        )
        phrases[item["slug"]] = handler.bank_answer_phrases(item, data)
    problems = []
    for item in bank.items:
        handler = handler_for(item["type"])
        texts = stated if handler.answer_among_options else shown
        told: set[str] = set()  # one problem per other item, whichever form it shows
        for phrase in phrases[item["slug"]]:
            phrase = _prose(phrase)
            if len(phrase.strip()) < 4:
                continue
            pattern = _phrase_pattern(phrase)
            for slug, text in texts.items():
                if slug != item["slug"] and slug not in told and pattern.search(text):
                    told.add(slug)
                    problems.append(
                        Problem(
                            str(bank.path),
                            None,
                            item["slug"],
                            f"its accepted answer {phrase!r} appears in {slug}, "
                            "which can be drawn into the same quiz",
                        )
                    )
    return problems


_STR_TAG = "tag:yaml.org,2002:str"
_INLINE_COMMENT = re.compile(r"\s+#")


def texts_cut_by_comments(path: Path) -> list[Problem]:
    """Plain (unquoted) text in an item followed by `` #`` on its line: YAML reads the rest
    of the line as a comment, so ``- text: route by pattern with * and # as wildcards``
    silently becomes ``route by pattern with * and``. Found in the source, since the parsed
    file no longer holds what was cut. Numbers and booleans may carry a comment; quoted and
    block (``|``) text cannot be cut. A file that does not parse is the loader's problem."""
    try:
        source = path.read_text()
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return []
    lines = source.splitlines()
    items = _mapping_value(root, "items")
    if not isinstance(items, yaml.SequenceNode):
        return []
    problems = []

    def visit(node: yaml.Node, slug: str | None) -> None:
        if isinstance(node, yaml.MappingNode):
            for _, value in node.value:
                visit(value, slug)
        elif isinstance(node, yaml.SequenceNode):
            for value in node.value:
                visit(value, slug)
        elif isinstance(node, yaml.ScalarNode) and node.style is None and node.tag == _STR_TAG:
            end = node.end_mark
            rest = lines[end.line][end.column :] if end.line < len(lines) else ""
            if _INLINE_COMMENT.match(rest):
                problems.append(
                    Problem(
                        str(path),
                        end.line + 1,
                        slug,
                        f"the text {node.value!r} is cut at ' #': YAML reads the rest of the "
                        f"line ({rest.strip()!r}) as a comment. Quote the text, or move the "
                        "comment to a line of its own",
                    )
                )

    for item in items.value:
        slug = _mapping_value(item, "slug")
        visit(item, slug.value if isinstance(slug, yaml.ScalarNode) else None)
    return problems


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            found: yaml.Node = v
            return found
    return None


def check_bank(
    *,
    paths: list[Path],
    roadmap_path: Path,
    run_sandbox: bool = True,
    policy_dir: Path | None = None,
    whole_bank: bool = False,
    require_languages: Iterable[str] = (),
) -> BankCheck:
    """Check the bank files at ``paths``. With ``policy_dir`` (the folder holding the
    coverage manifest, reviews/ and mutation.yaml), also the bank standard
    (``quizzes.bank.policy``: for every roadmap stage when ``whole_bank``, else for the
    stages of the files given), that every code challenge has a signature and every
    languages/ folder a challenge, that every challenge states its rules
    (``quizzes.bank.rules``) and that every Python challenge's mutation results are current
    (``quizzes.bank.mutation``)."""
    topics = roadmap_topics(roadmap_path)
    result = BankCheck(files=[], problems=[])
    for name in ("item fields", "unique slugs", "markdown"):
        result.add(name, [])  # every check in the tally, with 0 when it found nothing
    files = result.files
    for path in paths:
        try:
            files.append(read_bank_file(path, topics_by_stage=topics))
        except BankFileError as exc:
            result.add("item fields", exc.problems)
    seen: dict[str, Path] = {}
    texts = []
    for bank in files:
        for item in bank.items:
            if item["slug"] in seen:
                result.add(
                    "unique slugs",
                    [
                        Problem(
                            str(bank.path),
                            None,
                            item["slug"],
                            f"slug also used in {seen[item['slug']]}",
                        )
                    ],
                )
            seen[item["slug"]] = bank.path
            for text in (item["body"], item.get("explanation", "")):
                try:
                    render_markdown(text)
                except Exception as exc:  # a renderer crash is a bank problem
                    result.add(
                        "markdown",
                        [Problem(str(bank.path), None, item["slug"], f"Markdown: {exc}")],
                    )
            if not handler_for(item["type"]).needs_sandbox:
                texts.append((item["slug"], f"{item['title']} {item['body']}"))
    result.add(
        "near-duplicates",
        (
            Problem("bank", None, a, f"near-duplicate of {b} ({ratio:.0%} alike)")
            for a, b, ratio in near_duplicates(texts)
        ),
    )
    for bank in files:
        result.add("answers given away", answers_given_away(bank))
    for path in paths:
        result.add("text cut by a comment", texts_cut_by_comments(path))
    result.add("rules", check_rules(files, required=policy_dir is not None))
    if policy_dir is not None:
        result.add("mutation", check_mutation_records(files, policy_dir / MUTATION_FILE))
    if policy_dir is not None:
        stages = topics if whole_bank else {bank.stage for bank in files}
        policy = check_policy(
            files=files, stages=stages, topics_by_stage=topics, bank_dir=policy_dir
        )
        for name, problems in policy.by_check.items():
            result.add(name, problems)
        result.summaries = policy.summaries
    if policy_dir is not None:
        result.add("signatures", check_signatures(files))
        result.add("language files", check_language_dirs(files, policy_dir))
    if run_sandbox:
        result.add("challenges", [])
        skip = _unavailable_languages(result, require_languages)
        jobs = [
            (bank.path, item)
            for bank in files
            for item in bank.items
            if handler_for(item["type"]).needs_sandbox
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(
                lambda job: check_challenge(
                    job[1][0], job[1][1], slot=job[0] % 2, skip=skip,
                    counts=result.solutions_checked,
                ),
                enumerate(jobs),
            )  # fmt: skip
            for found in results:
                result.add("challenges", found)
                result.challenges_checked += 1
    return result


def _unavailable_languages(result: BankCheck, required: Iterable[str]) -> frozenset[str]:
    """The registered languages this host cannot grade: skipped with their reason, or a
    problem when ``required`` names them ("all" names every registered language)."""
    wanted = set(required)
    skip = set()
    for key in sorted(wanted - set(LANGUAGES) - {"all"}):
        result.add(
            "toolchains", [Problem("host", None, None, f"{key} is required but not registered")]
        )
    for key, lang in LANGUAGES.items():
        reason = lang.unavailable_reason()
        if reason is None:
            continue
        skip.add(key)
        if key in wanted or "all" in wanted:
            result.add(
                "toolchains",
                [Problem("host", None, None, f"{lang.label} is required but {reason}")],
            )
        else:
            result.skipped_languages[key] = reason
    return frozenset(skip)


def unavailable_languages() -> frozenset[str]:
    """The registered languages this host cannot grade."""
    return frozenset(key for key, lang in LANGUAGES.items() if not lang.available())


def check_signatures(files: list[BankFile]) -> list[Problem]:
    """The roadmap bank's code challenges are language-neutral: each has a signature."""
    problems = []
    for bank in files:
        for item in bank.items:
            handler = handler_for(item["type"])
            if handler.language_files and "signature" not in item["challenge"]:
                problems.append(
                    Problem(
                        str(bank.path), None, item["slug"],
                        "no `signature:`: a code challenge states its parameters and result "
                        "types, so that it can be offered in every language",
                    )
                )  # fmt: skip
    return problems


def check_language_dirs(files: list[BankFile], bank_dir: Path) -> list[Problem]:
    """Every languages/<slug>/ folder belongs to a code challenge of the bank."""
    slugs = {
        item["slug"] for bank in files for item in bank.items
        if handler_for(item["type"]).language_files
    }  # fmt: skip
    root = bank_dir / LANGUAGES_DIR
    if not root.is_dir():
        return []
    return [
        Problem(str(folder), None, folder.name, "no code challenge of the bank has this slug")
        for folder in sorted(root.iterdir())
        if folder.is_dir() and folder.name not in slugs
    ]
