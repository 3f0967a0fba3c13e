"""Reading composed YAML nodes so that every value keeps its position for messages.

The YAML is composed into nodes with the safe loader (never constructed into arbitrary objects);
:class:`NodeReader` reads scalars, mappings and lists from those nodes and raises
:class:`~spfbuild.config.model.ConfigError` with `file:line:column` at the first problem.
"""

from __future__ import annotations

import re

import yaml

from spfbuild.config.model import ConfigError, Location
from spfbuild.printable import shown
from spfbuild.typography import find_lookalikes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Items = dict[str, tuple[yaml.Node, yaml.Node]]  # key -> (key node, value node)

_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # as YAML counts lines
_CONSTRUCTOR = yaml.SafeLoader("")
_SAFE_TAGS = frozenset({*(t for t in yaml.SafeLoader.yaml_constructors if t is not None), "tag:yaml.org,2002:merge"})
_MAX_DEPTH = 100


def compose(text: str, filename: str) -> yaml.Node:
    """The document's root node; every YAML problem is one ConfigError naming where it is."""
    fast = _fast_compose(text)
    if fast is not None:
        return fast
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow in a file (control characters, lone surrogates).
        lines = _LINE_BREAKS.split(text[: exc.position])
        where = f"{filename}:{len(lines)}:{len(lines[-1]) + 1}"
        raise ConfigError(f"{where}: invalid YAML: character {chr(exc.character)!r} is not allowed") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{filename}: invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{_too_deep(text, filename)}: invalid YAML: nested too deeply") from None
    if root is None:
        raise ConfigError(f"{filename}: the file is empty")
    return root


_PLAIN_TEXT = re.compile(r"[\t\n\r\x20-\x7e]*")


def _fast_compose(text: str) -> yaml.Node | None:
    """The root node by libyaml (ten times faster on a config of a thousand domains), for plain
    ASCII text that it reads without a problem; None otherwise, and the Python reader, whose
    messages and positions the errors above are worded from, reads it again."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None or not _PLAIN_TEXT.fullmatch(text):
        return None
    try:
        return yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError):
        return None


class NodeReader:
    """Reads values out of one file's nodes, each error naming its position."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.filename, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: yaml.Node, message: str) -> ConfigError:
        """The problem at `node`, on one line: a value quoted in it may hold a line break (a
        quoted YAML scalar can), which is shown escaped."""
        return ConfigError(f"{self.loc(node)}: {shown(message)}")

    def refuse_tags(self, root: yaml.Node) -> None:
        """Only the tags the safe loader knows (`!!str`, `!!int`, ...): never `!!python/...` nor
        custom ones, wherever they are (nothing is ever constructed from them)."""
        stack, seen = [root], set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue  # aliases may make the graph cyclic
            seen.add(id(node))
            if node.tag not in _SAFE_TAGS:
                raise self.error(node, f"unsupported YAML tag {node.tag!r}")
            if isinstance(node, yaml.SequenceNode):
                stack += node.value
            elif isinstance(node, yaml.MappingNode):
                stack += [n for pair in node.value for n in pair]

    def mapping(self, node: yaml.Node, what: str) -> Items:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of keys to values")
        out: Items = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, f"keys in {what} must be plain text")
            key = str(key_node.value)
            if key in out:
                raise self.error(key_node, f"duplicate key '{key}' in {what}")
            out[key] = (key_node, value_node)
        return out

    def refuse_unknown(self, items: Items, allowed: tuple[str, ...], what: str) -> None:
        for key, (key_node, _) in items.items():
            if key not in allowed:
                import difflib  # only for a mistake

                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(allowed)})"
                raise self.error(key_node, f"unknown key '{key}' in {what}{hint}")

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, "expected a single value, not a list or mapping")
        try:
            return _CONSTRUCTOR.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise self.error(node, f"unsupported YAML tag {node.tag!r}") from None
        except Exception:
            # An explicit tag whose value does not fit it, e.g. `!!int ten`, `!!int ""` or `!!timestamp soon`:
            # PyYAML's constructors fail with whatever their parsing of the value raises.
            raise self.error(node, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}") from None

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, f"{what} must be text, got {describe(value)}")
        if find_lookalikes(value):
            raise self.error(node, f"{what} {value!r} contains a typographic look-alike or invisible character")
        return value.strip()

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"{what} must be a whole number, got {describe(value)}")
        if not low <= value <= high:
            raise self.error(node, f"{what} must be between {low} and {high}, got {value}")
        return value

    def flag(self, node: yaml.Node, what: str) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.error(node, f"{what} must be true or false")
        return value

    def items(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.ScalarNode):
            return [node]
        raise self.error(node, f"{what} must be a list")


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def describe(value: Any) -> str:
    """A value as messages quote it: `nothing`, `'true'`, `int 3`."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    return f"{type(value).__name__} {value!r}"


def _too_deep(text: str, filename: str) -> str:
    """Where nesting first goes deeper than any config needs (the YAML parser itself is not
    recursive, so this walk cannot fail the way composing did)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            mark = event.start_mark
            if depth > _MAX_DEPTH and mark is not None:
                return f"{filename}:{mark.line + 1}:{mark.column + 1}"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return filename
