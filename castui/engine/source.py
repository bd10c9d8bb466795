"""Where the reads of a run are answered: the one door between `Facts` and the world.

`LIVE` asks the clients (the cluster, the CAST AI API, the Helm repository, the Terraform
state). `RecordedSource` answers from a bundle's raw answers, looked up by the key `Facts`
names each read with (`raw_key`); a recorded failure is raised again as the same kind of
error with the same words. So a replay needs no server and opens no socket.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from castui import errors
from castui.errors import CastuiError

T = TypeVar("T")

#: a read, as `Facts` names it: ("list", resource, namespace, label selector, field selector), ("logs", …), …
Key = tuple[Any, ...]


def raw_key(key: Key | list[Any]) -> str:
    """How `raw` names a request: a JSON list, e.g. `["list", "pods", "castai-agent", null, null]`."""
    return json.dumps(list(key), default=str)


class Source(Protocol):
    #: True when reads reach the world; False for a recording (nothing can change, nothing is asked)
    live: bool

    async def answer(self, key: Key, fetch: Callable[[], Awaitable[T]], decode: Callable[[Any], T]) -> T:
        """The answer to the read `key`: `fetch()` asks the world; `decode` turns a recorded
        (JSON-shaped) answer back into what `fetch` returns."""
        ...


class LiveSource:
    """The clients: every read is fetched."""

    live = True

    async def answer(self, key: Key, fetch: Callable[[], Awaitable[T]], decode: Callable[[Any], T]) -> T:
        return await fetch()


LIVE = LiveSource()


class NotRecorded(CastuiError):
    """A replay asked for something the bundle does not hold (a bundle of an older castui, or a part
    that was not collected): the check says it could not check, never a silent all-clear."""

    kind = "not-recorded"


@dataclass
class RecordedSource:
    """A bundle's raw answers: `answers` and `failures` keyed by `raw_key`.

    A fold (a big list folded page by page into a summary) is answered by folding the list the
    bundle keeps behind it, ("list", resource, namespace, None, field selector), anew.
    """

    answers: Mapping[str, Any]
    #: raw key → {"kind": error kind, "message": castui's words, "hint": its hint or None}
    failures: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: what a key reads, in words ("list pods in castai-agent"): `castui.engine.facts.describe_fetch`
    describe: Callable[[Key], str] = raw_key
    live = False

    async def answer(self, key: Key, fetch: Callable[[], Awaitable[T]], decode: Callable[[Any], T]) -> T:
        name = raw_key(key)
        if name in self.failures:
            raise recorded_error(self.failures[name])
        if key and key[0] == "fold" and len(key) == 5:
            name = raw_key(("list", key[2], key[3], None, key[4]))
            if name in self.failures:
                raise recorded_error(self.failures[name])
        if name not in self.answers:
            raise NotRecorded(f"{self.describe(key)}: not recorded in the bundle")
        return decode(self.answers[name])


def recorded_error(failure: Mapping[str, Any]) -> CastuiError:
    """The error castui raised at capture, again: same kind (so the same verdict), same words."""
    kind = str(failure.get("kind") or "error")
    cls = _ERROR_KINDS.get(kind, CastuiError)
    error = cls.__new__(cls)  # some kinds build their own message in __init__: set the recorded one instead
    CastuiError.__init__(error, str(failure.get("message") or ""), hint=failure.get("hint") or None)
    if error.kind != kind:
        error.kind = kind  # a kind this version has no class for keeps its name
    return error


def _error_kinds() -> dict[str, type[CastuiError]]:
    kinds: dict[str, type[CastuiError]] = {}
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, CastuiError):
            kinds.setdefault(value.kind, value)
    return kinds


_ERROR_KINDS = _error_kinds()
