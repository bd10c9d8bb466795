"""Pages of a lab list, fast at 100,000 objects.

A list answers in (namespace, name) order and continues after the last key it
sent, as the real API server does. Sorting and filtering the whole store for
every page made a 100,000-pod list take over a minute (200 pages × a full sort);
here each store keeps a sorted index, rebuilt only when the store changes, so a
page is a binary search plus the objects it returns. A namespace is a contiguous
range of the index; selectors are applied while walking it.

Big stores (ENCODE_CACHE_MIN objects and more) also keep each object's JSON until
the store changes, as the real API server's watch cache keeps serialised objects:
encoding 100,000 pods took the lab 3.5 s per list, under the lock every request
waits for. Such stores must change through the API (or bump `state.resource_version`),
which every scenario and reaction does; small stores are encoded afresh every time.
"""

from __future__ import annotations

import json
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from castui.lab.state import LabState

Obj = dict[str, Any]
Key = tuple[str, str]


@dataclass
class Page:
    items: list[Obj]
    #: the key to continue after (None: this is the last page)
    last: Key | None
    #: objects after this page; None when a selector makes that unknown (as the real server omits it)
    remaining: int | None


#: stores at least this big keep their objects' JSON (see the module's docstring)
ENCODE_CACHE_MIN = 5_000


@dataclass
class _Index:
    source: list[Obj]
    length: int
    version: int
    keys: list[Key]
    objs: list[Obj]
    #: group version → id(object) → its JSON as served there (big stores only)
    encoded: dict[str, dict[int, bytes]] = field(default_factory=dict)
    #: (namespace, selector) → positions of the objects it matches, in key order: each page of a selected
    #: list continues in it instead of testing the store again (a 200,000-event scan per page took seconds)
    matches: dict[tuple[str | None, Any], list[int]] = field(default_factory=dict)
    #: spec.nodeName → positions (built on the first `spec.nodeName=…` selector)
    by_node: dict[str, list[int]] | None = None


#: id(state) → (a weak reference to it, store name → index); an entry goes when its state does
_INDEXES: dict[int, tuple["weakref.ref[LabState]", dict[str, _Index]]] = {}
_GUARD = threading.Lock()


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def list_page(
    state: "LabState",
    store: str,
    *,
    namespace: str | None,
    match: Callable[[Obj], bool] | None,
    after: Key | None,
    limit: int,
    selector: Any = None,
) -> Page:
    """One page of `store` (call under `state.lock`): objects in `namespace` (None: all) that `match`
    (None: every one), in key order, after `after`, at most `limit` (0: no limit). `selector`: a hashable
    name for what `match` tests (the selector strings); with it, a big store's matches are found once per version."""
    for _ in range(2):
        index = _index(state, store)
        if match is not None and selector is not None and index.length >= ENCODE_CACHE_MIN:  # same contract as the JSON kept
            page, positions = _selected_page(index, namespace, match, selector, after, limit)
        else:
            page, positions = _page(index, namespace, match, after, limit)
        # an object renamed in place (not through the API) leaves the index stale: rebuild it once
        if all(key_of(index.objs[i]) == index.keys[i] for i in positions):
            return page
        _forget(state, store)
    return page


def _page(
    index: _Index, namespace: str | None, match: Callable[[Obj], bool] | None, after: Key | None, limit: int
) -> tuple[Page, range | list[int]]:
    keys, objs = index.keys, index.objs
    lo, hi = 0, len(keys)
    if namespace is not None:
        lo, hi = bisect_left(keys, (namespace, "")), bisect_left(keys, (namespace + "\x00", ""))
    if after is not None:
        lo = max(lo, bisect_right(keys, after))
    if match is None:
        end = hi if limit <= 0 else min(hi, lo + limit)
        more = end < hi
        return Page(objs[lo:end], keys[end - 1] if more else None, hi - end if more else None), range(lo, end)
    chosen: list[int] = []
    for i in range(lo, hi):
        if match(objs[i]):
            if 0 < limit <= len(chosen):  # one more matches: there is a next page
                return Page([objs[j] for j in chosen], keys[chosen[-1]], None), chosen
            chosen.append(i)
    return Page([objs[j] for j in chosen], None, None), chosen


def _selected_page(
    index: _Index, namespace: str | None, match: Callable[[Obj], bool], selector: Any, after: Key | None, limit: int
) -> tuple[Page, list[int]]:
    keys, objs = index.keys, index.objs
    found = index.matches.get((namespace, selector))
    node = _node_term(selector)
    if found is None and node is not None:
        # spec.nodeName is indexed, as in the real API server's watch cache (kubelets list by it): one
        # lookup per node, not a scan of 100,000 pods for each node a check looks at closely
        if index.by_node is None:
            index.by_node = {}
            for i, obj in enumerate(objs):
                spec = obj.get("spec")
                index.by_node.setdefault(str((spec if isinstance(spec, dict) else {}).get("nodeName") or ""), []).append(i)
        lo, hi = (0, len(keys)) if namespace is None else (bisect_left(keys, (namespace, "")), bisect_left(keys, (namespace + "\x00", "")))
        found = [i for i in index.by_node.get(node, []) if lo <= i < hi]
    if found is None:
        lo, hi = 0, len(keys)
        if namespace is not None:
            lo, hi = bisect_left(keys, (namespace, "")), bisect_left(keys, (namespace + "\x00", ""))
        found = index.matches[(namespace, selector)] = [i for i in range(lo, hi) if match(objs[i])]
    start = bisect_left(found, bisect_right(keys, after)) if after is not None else 0
    end = len(found) if limit <= 0 else min(len(found), start + limit)
    chosen = found[start:end]
    more = end < len(found)
    return Page([objs[i] for i in chosen], keys[chosen[-1]] if more and chosen else None, None), chosen


def _node_term(selector: Any) -> str | None:
    """The node of a (label selector, field selector, name) that is exactly `spec.nodeName=NODE`, else None."""
    if not (isinstance(selector, tuple) and len(selector) == 3) or selector[0] or selector[2]:
        return None
    fields = selector[1]
    if not isinstance(fields, str) or "," in fields or "!=" in fields:
        return None
    key, sep, value = fields.partition("==") if "==" in fields else fields.partition("=")
    return value if sep and key.strip() == "spec.nodeName" else None


def list_body(
    state: "LabState", store: str, kind: str, group_version: str, meta: Obj, items: list[Obj], serve: Callable[[Obj], Obj]
) -> bytes:
    """A `{kind}List` answer's bytes (call under `state.lock`, after `list_page`); `serve(obj)` is an
    object as this group version serves it."""
    head = json.dumps({"kind": f"{kind}List", "apiVersion": group_version, "metadata": meta}).encode()
    index = _index(state, store)
    if index.length < ENCODE_CACHE_MIN:
        parts = [_encoded(serve(obj)) for obj in items]
    else:
        cache = index.encoded.setdefault(group_version, {})
        parts = []
        for obj in items:
            text = cache.get(id(obj))
            if text is None:
                text = cache[id(obj)] = _encoded(serve(obj))
            parts.append(text)
    # one join of bytes kept encoded: a 5,000-pod page is 30 MB, and every copy of it shows
    return b"".join((head[:-1], b', "items": [', b",".join(parts), b"]}"))


def _encoded(obj: Obj) -> bytes:
    """Compact, as a real API server writes JSON (a realistic pod is 15 % bigger with spaces)."""
    return json.dumps(obj, separators=(",", ":")).encode()


def warm(state: "LabState", serve: Callable[[str, Obj], Obj]) -> None:
    """Encode every object of the big stores now (a generated lab before it serves), so no request pays it;
    `serve(store, obj)` is the object as its canonical group version serves it."""
    from castui.lab.state import RESOURCES

    with state.lock:
        for store in list(state.objects):
            if len(state.objects[store]) >= ENCODE_CACHE_MIN and store in RESOURCES:
                index = _index(state, store)
                cache = index.encoded.setdefault(RESOURCES[store].group_version, {})
                for obj in index.objs:
                    cache[id(obj)] = _encoded(serve(store, obj))


def _index(state: "LabState", store: str) -> _Index:
    items = state.items(store)
    with _GUARD:
        entry = _INDEXES.get(id(state))
        if entry is None or entry[0]() is not state:
            sid = id(state)
            entry = _INDEXES[sid] = (weakref.ref(state, lambda _: _INDEXES.pop(sid, None)), {})
        indexes = entry[1]
    index = indexes.get(store)
    # appends and deletes change the length, a replaced list its identity, API writes the resourceVersion
    if index is None or index.source is not items or index.length != len(items) or index.version != state.resource_version:
        pairs = sorted(((key_of(o), o) for o in items), key=lambda pair: pair[0])
        index = _Index(items, len(items), state.resource_version, [k for k, _ in pairs], [o for _, o in pairs])
        indexes[store] = index
    return index


def _forget(state: "LabState", store: str) -> None:
    with _GUARD:
        entry = _INDEXES.get(id(state))
    if entry is not None:
        entry[1].pop(store, None)
