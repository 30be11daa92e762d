"""Markdown → sanitised HTML for item bodies, explanations and choices."""

from __future__ import annotations

import markdown
import nh3

_ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "span", "div", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "h3", "h4", "h5",
    "a", "sub", "sup", "del", "kbd",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
}
_EXTENSIONS = ["fenced_code", "codehilite", "tables", "sane_lists"]
_EXTENSION_CONFIGS = {"codehilite": {"css_class": "highlight", "guess_lang": False}}


def render_markdown(text: str, *, inline: bool = False) -> str:
    """Render Markdown and strip anything but formatting (no scripts, styles, handlers).

    ``inline`` drops the wrapping paragraph, for short texts such as choices.
    """
    html = markdown.markdown(
        text or "", extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS
    )
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
