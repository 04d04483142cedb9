"""A server-rendered page as a test reads it: its elements (tag, attributes, text, parent), the
labels of its inputs, and the fields its form sends when submitted, as a browser would."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.parts)).strip()

    def has_ancestor(self, test: Callable[[Element], bool]) -> bool:
        node = self.parent
        while node is not None:
            if test(node):
                return True
            node = node.parent
        return False


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {}, None)
        self.open: list[Element] = [self.root]
        self.elements: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.open[-1])
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.parts.append(data)


@dataclass
class Page:
    elements: list[Element]
    root: Element

    @classmethod
    def parse(cls, html: str) -> Page:
        parser = _Parser()
        parser.feed(html)
        parser.close()
        return cls(parser.elements, parser.root)

    @property
    def text(self) -> str:
        return self.root.text

    def find(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements of `tag` with these attributes (`class_` for class, `data_x` for data-x)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [e for e in self.elements if (tag is None or e.tag == tag)
                and all(e.attrs.get(name) == value for name, value in wanted.items())]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        [element] = self.find(tag, **attrs)
        return element

    @property
    def inputs(self) -> list[Element]:
        return self.find("input")

    def label_of(self, control: Element) -> str:
        """The text of the <label for=...> of `control` ('' when it has none)."""
        labels = [e.text for e in self.find("label") if e.attrs.get("for") == control.attrs.get("id")]
        return labels[0] if labels and control.attrs.get("id") else ""

    def checked(self) -> dict[str, str]:
        """name -> value of every ticked checkbox and chosen radio button."""
        return {e.attrs["name"]: e.attrs.get("value", "on") for e in self.inputs
                if e.attrs.get("type") in ("checkbox", "radio") and "checked" in e.attrs}

    def submitted(self, choose: Callable[[Element], bool]) -> list[tuple[str, str]]:
        """The fields the page's form sends after the user ticked and chose the boxes and
        buttons for which `choose` is true (all others unticked): its hidden fields too."""
        fields = []
        for control in self.inputs:
            kind = control.attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if choose(control):
                    fields.append((control.attrs["name"], control.attrs.get("value", "on")))
            elif "name" in control.attrs:
                fields.append((control.attrs["name"], control.attrs.get("value", "")))
        return fields
