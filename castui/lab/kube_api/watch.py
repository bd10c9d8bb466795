"""Watch: initial events, a bookmark, then changes found by polling the store."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator

from castui.lab.http import LabRequest, LabResponse
from castui.lab.kube_api.common import (
    WATCH_DEFAULT_SECONDS,
    WATCH_MAX_SECONDS,
    WATCH_POLL_SECONDS,
    Obj,
    Target,
    _current_rv,
    _key,
    _meta,
    _served,
)
from castui.lab.kube_api.selectors import Predicate, _matcher
from castui.lab.kube_api.tables import _wants_table, table
from castui.lab.state import LabState, ResourceType

# -- watch --


def _watch(state: LabState, req: LabRequest, target: Target) -> LabResponse:
    """ADDED for the current objects (when asked), a BOOKMARK ending the initial events, then
    changes found by polling the store, until `timeoutSeconds`."""
    match = _matcher(req, target)  # validates the selectors before the stream starts
    with state.lock:
        seen = {_key(o): copy.deepcopy(o) for o in state.items(target.store) if match(o)}
        rv = str(_current_rv(state))
    send_initial = req.arg("sendInitialEvents") == "true" or req.arg("resourceVersion") in (None, "", "0")
    bookmarks = req.arg("allowWatchBookmarks") == "true" or req.arg("sendInitialEvents") == "true"
    try:
        seconds = float(req.arg("timeoutSeconds") or WATCH_DEFAULT_SECONDS)
    except ValueError:
        seconds = WATCH_DEFAULT_SECONDS
    deadline = time.monotonic() + min(max(seconds, 0.0), WATCH_MAX_SECONDS)
    encode = _event_encoder(target.rt, req)
    initial = [encode("ADDED", seen[k]) for k in sorted(seen)] if send_initial else _since(req, seen, encode)
    if bookmarks:
        end_meta = {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}
        marker = {"kind": target.rt.kind, "apiVersion": target.rt.group_version, "metadata": end_meta}
        initial.append(json.dumps({"type": "BOOKMARK", "object": marker}).encode() + b"\n")
    stream = _watch_stream(state, target, match, seen, initial, deadline, encode)
    return LabResponse(200, None, "application/json", stream=stream)


def _since(req: LabRequest, seen: dict[tuple[str, str], Obj], encode: Callable[[str, Obj], bytes]) -> list[bytes]:
    """A watch from resourceVersion N first hears of what changed after N, as from a real API server: a
    client that listed, then watches from the list's version (kubectl rollout status, informers), misses
    no change made in between. Objects written since are MODIFIED (the lab keeps no history of deletions)."""
    asked = str(req.arg("resourceVersion") or "")
    if not asked.isdigit():
        return []
    since = int(asked)
    changed = [k for k in sorted(seen) if str(rv := _meta(seen[k]).get("resourceVersion", "")).isdigit() and int(rv) > since]
    return [encode("MODIFIED", seen[k]) for k in changed]


def _event_encoder(rt: ResourceType, req: LabRequest) -> Callable[[str, Obj], bytes]:
    as_table = _wants_table(req)

    def encode(kind: str, obj: Obj) -> bytes:
        payload = table(rt, [obj], req, {}) if as_table else _served(rt, obj)
        return json.dumps({"type": kind, "object": payload}).encode() + b"\n"

    return encode


def _watch_stream(
    state: LabState,
    target: Target,
    match: Predicate,
    seen: dict[tuple[str, str], Obj],
    initial: list[bytes],
    deadline: float,
    encode: Callable[[str, Obj], bytes],
) -> Iterator[bytes]:
    if initial:
        yield b"".join(initial)
    while time.monotonic() < deadline:
        time.sleep(WATCH_POLL_SECONDS)
        # an empty chunk is a tick: the server does not write it but may end the stream on stop
        yield b"".join(encode(kind, obj) for kind, obj in _changes(state, target, match, seen))


def _changes(
    state: LabState, target: Target, match: Predicate, seen: dict[tuple[str, str], Obj]
) -> list[tuple[str, Obj]]:
    """What changed since the last poll, by content (hooks may edit objects without a resourceVersion)."""
    events: list[tuple[str, Obj]] = []
    with state.lock:
        now = {_key(o): o for o in state.items(target.store) if match(o)}
        for key, obj in sorted(now.items()):
            if key not in seen:
                events.append(("ADDED", copy.deepcopy(obj)))
            elif seen[key] != obj:
                events.append(("MODIFIED", copy.deepcopy(obj)))
        for key in sorted(set(seen) - set(now)):
            events.append(("DELETED", seen.pop(key)))
    for kind, obj in events:
        if kind != "DELETED":
            seen[_key(obj)] = obj
    return events
