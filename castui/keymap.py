"""The config file's `[keymap]`, checked before the app uses it: an unknown action id, or a key
that two actions of one screen would share (one would silently shadow the other), is named
with its file, line and key, and that entry is left out, so its action keeps its default key."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding


@dataclass(frozen=True)
class Scope:
    """Bindings that are active together (a screen with its widgets and the app's own)."""

    name: str
    bindings: Sequence[Binding]


@dataclass(frozen=True)
class KeymapCheck:
    keymap: dict[str, str]
    problems: list[str]


def keys_of(value: str) -> set[str]:
    return {k.strip() for k in value.split(",") if k.strip()}


def check_keymap(keymap: Mapping[str, str], scopes: Iterable[Scope], *, file: str | None = None) -> KeymapCheck:
    """The entries that can be used as they are, and one sentence per entry that cannot."""
    scopes = list(scopes)
    known = {b.id for scope in scopes for b in scope.bindings if b.id}
    problems: list[str] = []
    usable = {}
    for action_id, keys in keymap.items():
        if action_id not in known:
            problems.append(f"{where(file, action_id)}: unknown action id {action_id!r} (= {keys!r}); "
                            "the help screen (?) lists the ids")
        else:
            usable[action_id] = keys
    # a clash is judged with the whole keymap applied, so swapping two keys is fine
    while True:
        clash = _first_clash(usable, scopes)
        if clash is None:
            break
        action_id, key, other, scope = clash
        default = next(b.key for s in scopes for b in s.bindings if b.id == action_id)
        problems.append(f"{where(file, action_id)}: {action_id!r} = {usable[action_id]!r}: {key!r} is already "
                        f"{other!r} on the {scope} screen; {action_id} keeps {default!r}")
        del usable[action_id]
    return KeymapCheck(usable, problems)


def _first_clash(keymap: Mapping[str, str], scopes: list[Scope]) -> tuple[str, str, str, str] | None:
    for scope in scopes:
        owner: dict[str, str] = {}
        for binding in scope.bindings:
            if not binding.id:
                continue
            for key in keys_of(keymap.get(binding.id, binding.key)):
                other = owner.setdefault(key, binding.id)
                # blame the remapped one; defaults that share a key on purpose (a modal's q) are no clash
                if other != binding.id and (binding.id in keymap or other in keymap):
                    blamed, kept = (binding.id, other) if binding.id in keymap else (other, binding.id)
                    return blamed, key, kept, scope.name
    return None


def where(file: str | None, action_id: str) -> str:
    if not file:
        return "keymap"
    line = _line_of(Path(file), action_id)
    return f"{file}, line {line}" if line else file


def _line_of(path: Path, action_id: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(rf'^\s*"?{re.escape(action_id)}"?\s*=', line):
                return number
    except OSError:
        pass
    return None
