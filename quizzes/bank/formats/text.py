"""Moodle's text formats, turned into the Markdown Skillmap stores.

Moodle marks every text with a format: ``html`` (the editor's), ``moodle_auto_format``
(plain text whose line breaks count, HTML allowed), ``plain_text`` (shown literally) and
``markdown``. Skillmap keeps Markdown, rendered and sanitised when shown
(``quizzes.markdown``), so HTML becomes Markdown here (markdownify) and plain text is
escaped.

Embedded files (``@@PLUGINFILE@@/name`` with the file's bytes in a ``<file>`` element):
Skillmap items hold no images or media, and the sanitiser would strip an ``<img>`` anyway.
So an image is replaced by its alt text (or ``[image: name]``) and a link to an embedded
file by its text, each with a warning in the report; the bytes are never decoded or kept.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from bs4 import BeautifulSoup
from markdownify import markdownify

HTML = "html"
AUTO = "moodle_auto_format"
PLAIN = "plain_text"
MARKDOWN = "markdown"
FORMATS = (HTML, AUTO, PLAIN, MARKDOWN)
# GIFT's [format] prefixes, and Moodle's older names in XML files.
FORMAT_ALIASES = {
    "html": HTML,
    "moodle": AUTO,
    "moodle_auto_format": AUTO,
    "plain": PLAIN,
    "plain_text": PLAIN,
    "markdown": MARKDOWN,
}

PLUGINFILE = "@@PLUGINFILE@@"
# What could start Markdown markup inside a line, and at the start of one.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]])")
_LINE_START_SPECIAL = re.compile(r"^(\s*)([#>+-]|\d+\.)(?=\s)")


def plain_to_markdown(text: str) -> str:
    """Plain text that renders as itself: what could start markup escaped, '<' as an
    entity (no HTML), each line break kept."""
    lines = []
    for line in text.split("\n"):
        line = _INLINE_SPECIAL.sub(r"\\\1", line).replace("<", "&lt;")
        lines.append(_LINE_START_SPECIAL.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return "  \n".join(lines).strip()


def _drop_embedded(soup: BeautifulSoup, files: set[str], warnings: list[str]) -> None:
    for img in soup.find_all("img"):
        src = str(img.get("src") or "")
        name = unquote(src.removeprefix(PLUGINFILE + "/")) if src.startswith(PLUGINFILE) else src
        alt = str(img.get("alt") or "").strip()
        where = "embedded in the file" if name in files else "linked"
        warnings.append(
            f"image {name!r} ({where}) is not imported: Skillmap items show no images; "
            + (f"its alt text {alt!r} stands in" if alt else "a placeholder stands in")
        )
        img.replace_with(alt or f"[image: {name}]")
    for link in soup.find_all(["a", "audio", "video", "source", "object", "embed", "iframe"]):
        attribute = "href" if link.name == "a" else "src"
        target = str(link.get(attribute) or link.get("data") or "")
        if link.name == "a" and not target.startswith(PLUGINFILE):
            continue
        name = unquote(target.removeprefix(PLUGINFILE + "/"))
        what = "link" if link.name == "a" else f"<{link.name}>"
        warnings.append(f"the {what} to {name!r} is not imported: Skillmap items hold no files")
        text = link.get_text(" ", strip=True)
        if text:
            link.replace_with(text)
        else:
            link.decompose()


def html_to_markdown(text: str, *, files: set[str], warnings: list[str]) -> str:
    soup = BeautifulSoup(text, "html.parser")
    _drop_embedded(soup, files, warnings)
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    markdown = markdownify(str(soup), heading_style="ATX", bullets="-", code_language="")
    # A line break ends many paragraphs of Moodle's editor ('1<br></p>'): its two trailing
    # spaces go where no line follows in the same paragraph, and stay where one does.
    lines = markdown.strip().split("\n")
    kept = [
        line if i + 1 < len(lines) and lines[i + 1].strip() else line.rstrip()
        for i, line in enumerate(lines)
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def to_markdown(
    text: str, text_format: str, *, files: set[str] | None = None, warnings: list[str]
) -> str:
    """``text`` in Moodle's ``text_format`` as Markdown; what cannot be kept is a warning."""
    files = files or set()
    fmt = FORMAT_ALIASES.get(text_format.strip().lower() if text_format else "", HTML)
    if fmt == MARKDOWN:
        return text  # as written, trailing line break and all
    if fmt == PLAIN:
        return plain_to_markdown(text.strip())
    if fmt == AUTO:
        # Line breaks count, and HTML may appear: make the breaks HTML, then convert.
        paragraphs = re.split(r"\n\s*\n", text.strip())
        text = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return html_to_markdown(text, files=files, warnings=warnings)
