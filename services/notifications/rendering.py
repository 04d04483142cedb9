"""The Jinja2 templates of every message, per language: subject, plain text and HTML.

Templates live in this package's `templates/` as `<message type>.<language>.subject.txt`, `.txt`
and `.html`. Only the HTML part is autoescaped; a missing value is an error, never an empty gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.notifications.domain import Language


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


class Templates:
    """Renders a message type in a language with the recipient's name and the request's values."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("services.notifications", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(
        self,
        message_type: str,
        language: Language,
        *,
        name: str,
        hub_name: str,
        context: dict[str, str] | None = None,
    ) -> RenderedMessage:
        """Raises jinja2.TemplateNotFound for a message type without templates in `language`."""
        values = {"name": name.strip(), "hub_name": hub_name, "context": context or {}}
        base = f"{message_type}.{language}"
        subject = self.env.get_template(f"{base}.subject.txt").render(values)
        return RenderedMessage(
            # A header must be one line, whatever a template editor typed.
            subject=" ".join(subject.split()),
            text=self.env.get_template(f"{base}.txt").render(values),
            html=self.env.get_template(f"{base}.html").render(values),
        )
