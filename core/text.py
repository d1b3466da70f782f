"""User-written text: a small Markdown subset rendered to HTML, then sanitised, so no raw HTML ever runs."""

import markdown
import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}


def render_markdown(text: str) -> str:
    """Render `text` as Markdown (emphasis, lists, links, quotes) and keep only safe tags and http(s)/mailto links.

    Every "<" is escaped before rendering, so raw HTML such as `<script>` shows as text rather than running;
    nh3 then removes anything Markdown itself produced that is not on the list.
    """
    escaped = (text or "").replace("<", "&lt;")
    html = markdown.markdown(escaped, extensions=["sane_lists", "nl2br"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )
