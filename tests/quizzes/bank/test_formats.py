"""Moodle XML and GIFT readers and writers, on fixtures written for Skillmap after Moodle's
format documentation and its own format tests: each quirk found there is reproduced here
and its outcome asserted (the question's bank entry, or why it is skipped, and warnings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from quizzes.bank.formats import FormatError, ParsedFile, read_questions, sniff_format
from quizzes.bank.formats.gift import escape, write_gift
from quizzes.bank.formats.moodle_xml import check_cloze, write_moodle_xml
from quizzes.itemtypes import handler_for
from quizzes.itemtypes.interchange import (
    Unmappable,
    entry_from_question,
    question_from_entry,
    wildcard_pattern,
)

FIXTURES = Path(__file__).parent / "fixtures"
BANK = Path(__file__).resolve().parents[3] / "fixtures/questions"


def read(name: str, fmt: str) -> ParsedFile:
    return read_questions((FIXTURES / name).read_bytes(), fmt)


def by_name(parsed: ParsedFile) -> dict[str, Any]:
    return {q.name: q for q in parsed.questions}


def entry_of(parsed_question: Any) -> dict[str, Any]:
    """The question's bank entry; its mapping warnings join the reader's."""
    assert parsed_question.question is not None, parsed_question.reason
    entry, warnings = entry_from_question(parsed_question.question)
    parsed_question.warnings[:] = [w for w in parsed_question.warnings if w not in warnings]
    parsed_question.warnings += warnings
    return entry


# --- Moodle XML: a file shaped like a Moodle 4.x export -----------------------------------------
@pytest.fixture(scope="module")
def moodle4() -> ParsedFile:
    return read("moodle4_export.xml", "moodle-xml")


def test_a_moodle_4_export_lists_its_categories_and_every_question(moodle4: ParsedFile) -> None:
    assert moodle4.categories == [
        "$course$/top/Default for Backend Engineering 101/Databases/Indexing",
        "$course$/top/Default for Backend Engineering 101/Databases/Transactions",
        "$system$/top/Shared/Caching strategies/CDN integration",
    ]
    assert [(q.number, q.source_type) for q in moodle4.questions] == [
        (1, "multichoice"), (2, "multichoice"), (3, "truefalse"), (4, "shortanswer"),
        (5, "numerical"), (6, "matching"), (7, "ordering"), (8, "essay"), (9, "description"),
        (10, "calculatedsimple"), (11, "ddwtos"), (12, "random"),
    ]  # fmt: skip
    # Lines point at each <question> tag, past the comments and CDATA that hold none.
    text = (FIXTURES / "moodle4_export.xml").read_text().split("\n")
    assert all(text[q.line - 1].lstrip().startswith("<question") for q in moodle4.questions)
    assert "penalty" in moodle4.notes[0]


def test_html_in_cdata_becomes_markdown_and_an_embedded_image_a_warning(
    moodle4: ParsedFile,
) -> None:
    question = by_name(moodle4)["Composite index column order"]
    entry = entry_of(question)
    assert entry["type"] == "single_choice"
    assert entry["body"] == (
        "A table has an index on `(country, city)`. Which query can use it for an "
        "**index range scan**?\n\nB-tree on country then city"
    )
    # Entities inside CDATA (&gt;) are HTML's, decoded once; the choice's <br></p> is gone.
    assert entry["choices"][0] == {
        "text": "`WHERE country = 'FR' AND city > 'M'`",
        "correct": True,
        "feedback": "Right: the leading column is fixed.",
    }
    assert [c["correct"] for c in entry["choices"]] == [True, False, False]
    assert entry["explanation"].startswith("The leftmost column of a composite index")
    assert question.warnings == [
        "image 'index diagram.png' (embedded in the file) is not imported: Skillmap items "
        "show no images; its alt text 'B-tree on country then city' stands in",
        "Moodle tags are not kept (Skillmap has topics instead): indexes",
    ]
    assert "@@PLUGINFILE@@" not in str(entry) and "iVBOR" not in str(entry)


def test_fractions_of_33_33333_make_a_multiple_choice_and_the_negative_one_a_distractor(
    moodle4: ParsedFile,
) -> None:
    question = by_name(moodle4)["Index-only scans"]
    entry = entry_of(question)
    assert entry["type"] == "multiple_choice"
    assert [c["correct"] for c in entry["choices"]] == [True, True, True, False]
    assert entry["choices"][3]["feedback"] == "SELECT \\* needs the heap."
    # moodle_auto_format keeps its line break; markdown general feedback is kept as written.
    assert entry["body"] == (
        "Which of these let PostgreSQL answer from the index alone?  \nPick every one that applies."
    )
    assert entry["explanation"] == (
        "An *index-only scan* needs every column in the index and a visible page."
    )
    assert question.question.idnumber == "index-only-scans"
    assert question.warnings == [
        "Moodle's answer fractions (33.3333%, 33.3333%, 33.3333%, -100%) are not kept: "
        "Skillmap gives +1/3 for each correct pick and -1/3 for each wrong one"
    ]


def test_true_false_keeps_each_answers_feedback_and_plain_text_stays_literal(
    moodle4: ParsedFile,
) -> None:
    question = by_name(moodle4)["Serializable can abort"]
    entry = entry_of(question)
    assert entry["answer"] is True
    assert entry["feedback_true"] == "Yes: retry on SQLSTATE 40001."
    assert entry["feedback_false"] == "It can: that is how SSI stays serializable."
    # plain_text: '&' decoded by the XML parser, '*' escaped so it does not turn italic.
    assert "failure & the client" in entry["body"] and "a\\*b" in entry["body"]
    assert question.question.idnumber == "T & F serializable"
    assert question.warnings == [
        "it was hidden in Moodle's bank; it is imported as a draft all the same"
    ]


def test_short_answer_wildcards_become_a_pattern_and_partial_credit_a_warning(
    moodle4: ParsedFile,
) -> None:
    question = by_name(moodle4)["Isolation level name"]
    entry = entry_of(question)
    assert entry["accepted"] == ["REPEATABLE READ"]
    assert entry["pattern"] == "repeatable.*read"
    assert question.warnings == [
        "answer 3 ('serializable') gave 50% in Moodle; Skillmap's short answers score all or "
        "nothing, so it is not accepted",
        "Moodle compared this answer case-sensitively; Skillmap ignores case",
        "Moodle's * wildcards became the regex pattern repeatable.*read",
    ]


def test_numerical_keeps_tolerance_grade_and_main_unit(moodle4: ParsedFile) -> None:
    question = by_name(moodle4)["Lock wait"]
    entry = entry_of(question)
    assert (entry["answer"], entry["tolerance"], entry["unit"]) == (2500, 10, "ms")
    assert question.question.default_grade == 2
    assert question.warnings == ["units other than the main one are not kept: s"]


def test_matching_drops_its_distractor_and_ordering_follows_the_fractions(
    moodle4: ParsedFile,
) -> None:
    matching = by_name(moodle4)["Cache headers"]
    assert entry_of(matching)["pairs"][0] == {
        "left": "`Cache-Control: max-age`",
        "right": "How long a response stays fresh",
    }
    assert len(entry_of(matching)["pairs"]) == 3
    assert matching.warnings == [
        "the extra answer 'Encrypts the response' (a distractor with no question) is not kept"
    ]
    ordering = by_name(moodle4)["Request through a CDN"]
    assert entry_of(ordering)["sequence"][0] == "The edge looks up the cache key"
    assert "ABSOLUTE_POSITION" in ordering.warnings[0]


def test_types_skillmap_cannot_hold_are_skipped_with_their_reason(moodle4: ParsedFile) -> None:
    reasons = {q.source_type: q.reason for q in moodle4.questions if q.question is None}
    assert reasons == {
        "essay": "essay questions are marked by hand; Skillmap has no hand-marked type",
        "description": "a description is text, not a question",
        "calculatedsimple": "calculated questions draw values from datasets; Skillmap has no "
        "equivalent",
        "ddwtos": "drag-and-drop into text has no Skillmap equivalent",
        "random": "a random question is drawn from a Moodle category when the quiz starts; "
        "import the category's questions instead",
    }


def test_links_to_embedded_files_keep_their_text_and_scripts_never_arrive() -> None:
    html = (
        '<p><a href="@@PLUGINFILE@@/bonjour.mp3">Listen to this greeting:</a><br>'
        '<img src="x" onerror="alert(1)">What language?</p><script>alert(2)</script>'
        '<p><a href="https://example.org/doc">the docs</a></p>'
    )
    question = (
        '<question type="truefalse"><name><text>Greeting</text></name>'
        f'<questiontext format="html"><text><![CDATA[{html}]]></text>'
        '<file name="bonjour.mp3" encoding="base64">SUQz</file></questiontext>'
        '<generalfeedback format="html"><text>French.</text></generalfeedback>'
        '<answer fraction="100"><text>true</text></answer>'
        '<answer fraction="0"><text>false</text></answer></question>'
    )
    [parsed] = read_questions(quiz(question), "moodle-xml").questions
    entry = entry_of(parsed)
    assert entry["body"] == (
        "Listen to this greeting:  \n[image: x]What language?\n\n[the docs](https://example.org/doc)"
    )
    assert "alert" not in entry["body"] and "onerror" not in entry["body"]
    assert parsed.warnings == [
        "image 'x' (linked) is not imported: Skillmap items show no images; a placeholder "
        "stands in",
        "the link to 'bonjour.mp3' is not imported: Skillmap items hold no files",
    ]


# --- Moodle XML: bad questions and bad files ------------------------------------------------------
def quiz(*questions: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "".join(questions) + "</quiz>\n"
    ).encode()


def multichoice(*fractions: str, single: str = "false") -> str:
    answers = "".join(
        f'<answer fraction="{f}" format="html"><text>Choice {n}</text></answer>'
        for n, f in enumerate(fractions, start=1)
    )
    return (
        '<question type="multichoice"><name><text>Primes</text></name>'
        '<questiontext format="html"><text>Pick the primes</text></questiontext>'
        f"<single>{single}</single>{answers}</question>\n"
    )


def test_an_invalid_grade_skips_the_question_and_names_the_answer() -> None:
    parsed = read_questions(
        quiz(multichoice("-50", "33", "33.33333", "-50", "33.33333")), "moodle-xml"
    )
    [question] = parsed.questions
    assert question.question is None
    assert question.reason.startswith(
        "answer 2: the grade 33% is not one Moodle allows (100, 90, 83.3333, 80"
    )
    [bad] = read_questions(quiz(multichoice("100", "abc")), "moodle-xml").questions
    assert bad.reason == "answer 2: the fraction 'abc' is not a number"


def test_a_single_choice_with_partial_credit_keeps_one_key_and_warns() -> None:
    [question] = read_questions(
        quiz(multichoice("100", "50", "0", single="true")), "moodle-xml"
    ).questions
    entry = entry_of(question)
    assert [c["correct"] for c in entry["choices"]] == [True, False, False]
    assert question.warnings == [
        "choice 2 gave 50% in Moodle; Skillmap's single choice scores all or nothing, so it "
        "is now wrong"
    ]


def test_unknown_types_and_questions_without_a_type_are_skipped() -> None:
    parsed = read_questions(
        quiz(
            '<question type="stack"><name><text>Algebra</text></name></question>',
            "<question><name><text>Typeless</text></name></question>",
        ),
        "moodle-xml",
    )
    assert [q.reason for q in parsed.questions] == [
        "unknown question type 'stack'",
        "the question has no type",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "Please select the fruits.",
            "it holds no embedded answer such as {1:SHORTANSWER:=answer}",
        ),
        ("Pick {1:MULTICHOICE}", "embedded answer 1 '{1:MULTICHOICE}': it has no answers"),
        (
            "Pick {1:MULTICHOICE:=Apple#Correct}",
            "embedded answer 1 '{1:MULTICHOICE:=Apple#Correct}': a choice needs at least two "
            "answers",
        ),
        (
            "Pick {1:MULTICHOICE:Pear#No~%50%Apple#Half}",
            "embedded answer 1 '{1:MULTICHOICE:Pear#No~%50%Apple#Half}': no answer is completely "
            "correct",
        ),
        (
            "Grade? {3:NUMERICAL:=zero}",
            "embedded answer 1 '{3:NUMERICAL:=zero}': the answer 'zero' is not a number",
        ),
        ("Say {1:SHOUT:=hi}", "embedded answer 1 '{1:SHOUT:=hi}': unknown type SHOUT"),
    ],
)
def test_broken_cloze_is_reported_precisely(text: str, problem: str) -> None:
    assert problem in check_cloze(text)
    cloze = (
        f'<question type="cloze"><name><text>Cloze</text></name><questiontext format="html">'
        f"<text><![CDATA[{text}]]></text></questiontext></question>"
    )
    [question] = read_questions(quiz(cloze), "moodle-xml").questions
    assert question.question is None
    assert question.reason.startswith("embedded answers (cloze) hold several questions")
    assert problem in question.reason


def test_a_well_formed_cloze_is_skipped_without_a_syntax_complaint() -> None:
    assert check_cloze("Capital: {1:SHORTANSWER:=Paris#Yes~*#No} and {2:MC:~a~=b}") == []


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<quiz><question type="truefalse"><name><text>&lol3;</text></name></question></quiz>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="truefalse"><name><text>&secret;</text></name></question></quiz>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BILLION_LAUGHS, "the file declares a DTD (<!DOCTYPE …>); it is refused"),
        (EXTERNAL_ENTITY, "the file declares a DTD (<!DOCTYPE …>); it is refused"),
        (
            b'<?xml version="1.0"?>\n<quiz>\n<question type="truefalse">\n</quiz>\n',
            "line 4, column 3: the XML is broken (mismatched tag)",
        ),
        (b"<quiz><question", "line 1, column 7: the XML is broken (unclosed token)"),
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n<!-- café -->\n</quiz>'.encode(
                "latin-1"
            ),
            "line 3: the file is not valid UTF-8 (byte 0xe9)",
        ),
        (b'<?xml version="1.0"?><questions/>', "the root element is <questions>, not <quiz>"),
    ],
)
def test_malformed_xml_is_refused_with_a_precise_message(data: bytes, message: str) -> None:
    with pytest.raises(FormatError) as refused:
        read_questions(data, "moodle-xml")
    assert message in str(refused.value)


def test_a_file_declaring_latin_1_is_read_in_latin_1() -> None:
    data = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><quiz><question type="truefalse">'
        '<name><text>Café</text></name><questiontext format="plain_text"><text>Ça va</text>'
        '</questiontext><answer fraction="100"><text>true</text></answer>'
        '<answer fraction="0"><text>false</text></answer></question></quiz>'
    ).encode("latin-1")
    [question] = read_questions(data, "moodle-xml").questions
    assert entry_of(question)["title"] == "Café"


# --- GIFT ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gift() -> ParsedFile:
    return read("quirks.gift", "gift")


def test_gift_categories_titles_and_comments(gift: ParsedFile) -> None:
    assert gift.categories == [
        "$course$/top/API design/Rate limiting",
        "$course$/top/API design/Versioning",
    ]
    assert [q.category for q in gift.questions][:10] == [
        "$course$/top/API design/Rate limiting"
    ] * 10
    assert gift.questions[0].name == "Throttled status"
    assert gift.questions[0].line == 7  # the line of the question, not of its comment
    assert by_name(gift)["Token bucket: facts"].name == "Token bucket: facts"  # \: in a title
    window = by_name(gift)["Window"].question
    assert (window.idnumber, window.tags) == ("rl-window-seconds", ["rate-limits"])


def test_gift_multiple_choice_with_feedback_formats_and_general_feedback(gift: ParsedFile) -> None:
    entry = entry_of(by_name(gift)["Throttled status"])
    assert entry["choices"] == [
        {"text": "429 Too Many Requests", "correct": True, "feedback": "Right: RFC 6585."},
        {"text": "503 Service Unavailable", "correct": False,
         "feedback": "That one is for an overloaded server."},
        {"text": "403 &lt;Forbidden>", "correct": False,
         "feedback": "Not an authorisation problem."},
    ]  # fmt: skip
    assert entry["explanation"] == "Send `Retry-After` with it."  # ####[html]…


def test_gift_weights_negative_weights_and_escapes(gift: ParsedFile) -> None:
    question = by_name(gift)["Token bucket: facts"]
    entry = entry_of(question)
    assert entry["type"] == "multiple_choice"
    assert entry["body"] == "Which are true of a **token bucket**?"  # [markdown] as written
    assert [c["correct"] for c in entry["choices"]] == [True, True, False, False]
    assert entry["choices"][2] == {
        "text": "It needs a queue {per client}",
        "correct": False,
        "feedback": "No queue: requests above the rate are refused.",
    }
    assert entry["choices"][3]["text"] == "Its rate is written a = b ~ c # d"


def test_gift_short_answer_numbers_ranges_and_tolerances(gift: ParsedFile) -> None:
    names = by_name(gift)
    assert entry_of(names["Header name"])["accepted"] == ["Retry-After", "retry after"]
    assert (entry_of(names["Window"])["answer"], entry_of(names["Window"])["tolerance"]) == (60, 0)
    assert (entry_of(names["Range"])["answer"], entry_of(names["Range"])["tolerance"]) == (10, 5)
    weighted = names["Weighted numbers"]
    assert (entry_of(weighted)["answer"], entry_of(weighted)["tolerance"]) == (90, 0)
    assert weighted.warnings == [
        "partially correct answers are not kept: 90 (50%)",
        "there is no general feedback: the right answer's feedback is the explanation",
    ]
    assert entry_of(weighted)["explanation"] == "Exactly."


def test_gift_matching_true_false_and_missing_word(gift: ParsedFile) -> None:
    names = by_name(gift)
    match = names["Match"]
    assert entry_of(match)["pairs"][2] == {"left": "Fixed window", "right": "resets on the minute"}
    assert match.warnings == [
        "the extra answer 'uses no memory' (a distractor with no question) is not kept"
    ]
    # {TRUE#feedback for the wrong answer#feedback for the right one}
    idempotent = entry_of(names["Idempotent"])
    assert idempotent["body"] == "A **GET** request is safe to retry."  # [html]
    assert (idempotent["answer"], idempotent["feedback_true"], idempotent["feedback_false"]) == (
        True, "Yes: GET is safe.", "It is not: think again.",
    )  # fmt: skip
    assert entry_of(names["Absolute limit"])["answer"] is False  # {F}
    missing = next(q for q in gift.questions if q.name.startswith("Rate limiting protects"))
    assert entry_of(missing)["body"] == "Rate limiting protects \\_\\_\\_\\_\\_ from overload."
    assert missing.warnings == [
        "a missing-word question: the answers' place shows as _____",
        "there is no general feedback: the right answer's feedback is the explanation",
    ]


def test_gift_questions_that_cannot_be_read_are_skipped_with_the_reason(gift: ParsedFile) -> None:
    skipped = [(q.name, q.source_type, q.reason) for q in gift.questions if q.question is None]
    assert skipped == [
        ("Essay", "essay", "essay questions are marked by hand; Skillmap has no hand-marked type"),
        ("question 13", "description",
         "a description is text, not a question (it has no {…} answers)"),
        ("Broken weight", "(broken)", "answer 1: the weight '%abc%one' is not %number%"),
        ("Broken number", "(broken)", "answer 1: 'lots' is not a number"),
        ("Unclosed", "(broken)", "the answers opened with { are never closed with }"),
    ]  # fmt: skip


def test_gift_that_is_not_utf_8_is_refused_with_its_line() -> None:
    with pytest.raises(FormatError, match=r"line 2: the file is not valid UTF-8 \(byte 0xe9\)"):
        read_questions("// ok\n::Café::Yes?{T}\n".encode("latin-1"), "gift")


def test_gift_escape_round_trips_every_special_character() -> None:
    text = "a: {b} = c ~ d # e \\ f\nsecond line"
    written = escape(text)
    assert "\n" not in written
    [question] = read_questions(f"::T::[markdown]{written}{{T}}".encode(), "gift").questions
    assert question.question.text == text


# --- formats, sniffing, wildcards -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("bank.xml", b"", "moodle-xml"),
        ("bank.gift", b"", "gift"),
        ("stage-03.yaml", b"", "yaml"),
        ("upload", b'\xef\xbb\xbf<?xml version="1.0"?><quiz/>', "moodle-xml"),
        ("upload", b"stage: 3\nitems: []\n", "yaml"),
        ("upload", b"::Q::Is it?{T}", "gift"),
    ],
)
def test_the_format_is_found_by_suffix_then_content(name: str, data: bytes, fmt: str) -> None:
    assert sniff_format(name, data) == fmt


def test_wildcards_escape_everything_but_the_star() -> None:
    assert wildcard_pattern("a.b*c") == "a\\.b.*c"
    assert wildcard_pattern("literal \\* star*") == "literal\\ \\*\\ star.*"


def test_an_unmappable_true_false_says_why() -> None:
    [question] = read_questions(
        quiz(
            '<question type="truefalse"><name><text>TF</text></name>'
            '<answer fraction="100"><text>yes</text></answer></question>'
        ),
        "moodle-xml",
    ).questions
    with pytest.raises(Unmappable, match="a true/false answer reads 'yes'"):
        entry_from_question(question.question)


# --- the whole bank round-trips through both formats ----------------------------------------------
def round_trip(entry: dict[str, Any], fmt: str) -> dict[str, Any] | None:
    question = question_from_entry(entry, category="$course$/top/stage/topic")
    assert question is not None
    groups = [("$course$/top/stage/topic", "", [question])]
    if fmt == "gift":
        text, left_out = write_gift(groups)
        if left_out:
            assert left_out == [entry["slug"]]
            return None
    else:
        text = write_moodle_xml(groups)
    [parsed] = read_questions(text.encode(), fmt).questions
    assert parsed.question is not None, parsed.reason
    back, _ = entry_from_question(parsed.question)
    extra = parsed.question.extra
    return {
        **back,
        "slug": parsed.question.idnumber,
        "topic": entry["topic"],
        "difficulty": extra["difficulty"],
        "cognitive": extra["cognitive"],
    }


def version_content(entry: dict[str, Any]) -> dict[str, Any]:
    """What an item's version is made of (item_version_values without the HTML, which is
    rendered from the same text): the fields learners see and the key, built by its type."""
    values = {
        "title": entry["title"].strip(),
        "body": entry["body"],
        "explanation": entry.get("explanation", ""),
        "difficulty": entry["difficulty"],
        "cognitive": entry.get("cognitive", "recall"),
        "points": entry.get("points", 1),
    }
    return {**values, "data": handler_for(entry["type"]).build_data(entry)}


@pytest.mark.parametrize("path", sorted(BANK.glob("stage-*.yaml")), ids=lambda p: p.stem)
def test_every_mappable_bank_item_exports_and_imports_as_the_same_item(path: Path) -> None:
    entries = [
        entry
        for entry in yaml.safe_load(path.read_text())["items"]
        if question_from_entry(entry) is not None
    ]
    assert entries
    checked = {"moodle-xml": 0, "gift": 0}
    for entry in entries:
        for fmt in checked:
            back = round_trip(entry, fmt)
            if back is None:
                assert fmt == "gift" and entry["type"] == "ordering", entry["slug"]
                continue
            assert back["slug"] == entry["slug"]
            assert version_content(back) == version_content(entry), (fmt, entry["slug"])
            checked[fmt] += 1
    assert checked["moodle-xml"] == len(entries)
    assert checked["gift"] == len([e for e in entries if e["type"] != "ordering"])
