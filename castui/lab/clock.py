"""The lab's clock: it moves with real time, and everything the lab serves moves with it.

A scenario is built at one moment: the agent's last snapshot 40 s ago, an eviction storm
now, a Helm release pending for 2 minutes. Frozen, those times age while a lab serves: after
15 minutes the healthy cluster's snapshot reads as stale and castui rightly confirms
`heartbeat-failing`, so a long benchmark measured another workload partway through. Here
the lab keeps its data as old as it was built: once its clock has moved STEP_S past the
data's time, every timestamp it holds (objects, their pre-encoded JSON, previous containers' logs,
the CAST AI side, Helm release payloads) moves forward by that much, and `state.now` with them.
Current logs are not rewritten (a follower would see every line again): their lines stay as served and
the running containers write the lines of that step after them (castui/lab/log_writers.py).

The big generated stores of a scale lab (ENCODE_CACHE_MIN objects and more: 100,000 pods,
200,000 events, kept as encoded JSON) keep the times they were built with: moving them took
the lab minutes under its lock, and none of their times is one a verdict reads as recent (the
generated evictions are older than an hour and only grow older; the agent's snapshot, logs
and Helm releases, which are read as recent, live in the small stores and move).

`LabClock.advance` moves it without waiting, so a test can let an hour pass at once.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from castui.lab.list_index import ENCODE_CACHE_MIN

if TYPE_CHECKING:
    from castui.lab.state import LabState

#: how far the clock moves before the data follows: ages stay within this of what was built
STEP_S = 60
_ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?=[.Z+-])")
_ISO_BYTES = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?=[.Z+-])")
_FORMAT = "%Y-%m-%dT%H:%M:%S"


class LabClock:
    """The scenario's `now`, moving with `monotonic` (real time) plus whatever `advance` added."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start = start
        self._monotonic = monotonic
        self._origin = monotonic()
        self._advanced = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._monotonic() - self._origin + self._advanced)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._advanced += seconds


#: a lab built further than this from now is on a fixed clock (a test's, judged at that moment): it stays frozen
PRESENT_S = 600


def follows_real_time(state: "LabState") -> None:
    """Give a lab built at the present a clock that moves with real time (see the module's docstring)."""
    if state.clock is None and abs((datetime.now(timezone.utc) - state.now).total_seconds()) < PRESENT_S:
        state.clock = LabClock(state.now)


def keep_time(state: "LabState") -> None:
    """Move the state's data forward to its clock when the clock is STEP_S or more ahead (cheap otherwise)."""
    clock = state.clock
    if clock is None or (clock.now() - state.now).total_seconds() < STEP_S:
        return
    with state.lock:
        drift = int((clock.now() - state.now).total_seconds())
        if drift >= STEP_S:
            shift(state, timedelta(seconds=drift))


def shift(state: "LabState", by: timedelta) -> None:
    """Every timestamp the state holds, `by` later (call under `state.lock`)."""
    moved = _Shifter(by)
    for items in state.objects.values():
        if len(items) < ENCODE_CACHE_MIN:  # a generated big store keeps its times (see the module's docstring)
            moved.walk(items)
    for key, text in list(state.logs.items()):
        if key[3]:  # a previous container's log: a crash-looping container writes it anew at each restart
            state.logs[key] = moved.text(text) if isinstance(text, str) else moved.data(text)
    moved.walk(state.castai)
    moved.walk(state.helm_index)
    moved.walk(state.status_page)
    for secret in state.objects.get("secrets", []):
        _shift_helm_release(secret, moved)
    state.now += by
    from castui.lab.log_writers import grow

    grow(state, state.now)  # current logs keep their lines: the running containers write on after them


def restamped(lines: list[str], by: timedelta) -> list[str]:
    """`lines` with every timestamp in them `by` later."""
    moved = _Shifter(by)
    return [moved.text(line) for line in lines]


def lab_now(state: "LabState") -> datetime:
    """The time the lab answers at: its clock's, or the time a frozen lab's data is at."""
    return state.clock.now() if state.clock is not None else state.now


class _Shifter:
    def __init__(self, by: timedelta) -> None:
        self.by = by
        self.memo: dict[str, str] = {}
        self.seen: set[int] = set()

    def stamp(self, text: str) -> str:
        moved = self.memo.get(text)
        if moved is None:
            when = datetime.strptime(text, _FORMAT).replace(tzinfo=timezone.utc) + self.by
            moved = self.memo[text] = when.strftime(_FORMAT)
        return moved

    def text(self, value: str) -> str:
        if len(value) < 20 or "T" not in value:
            return value
        return _ISO.sub(lambda m: self.stamp(m.group(1)), value)

    def data(self, value: bytes) -> bytes:
        return _ISO_BYTES.sub(lambda m: self.stamp(m.group(1).decode()).encode(), value)

    def walk(self, node: Any) -> None:
        """Shift the strings inside `node` in place; containers shared by several objects are visited once."""
        if node is None or id(node) in self.seen:
            return
        self.seen.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    moved = self.text(value)
                    if moved is not value:
                        node[key] = moved
                elif isinstance(value, (dict, list)) or is_dataclass(value):
                    self.walk(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, str):
                    node[i] = self.text(value)
                elif isinstance(value, (dict, list)):
                    self.walk(value)
        elif is_dataclass(node) and not isinstance(node, type):
            for field in fields(node):
                self.walk(getattr(node, field.name))


def _shift_helm_release(secret: dict[str, Any], moved: _Shifter) -> None:
    """A Helm release Secret's payload (base64 of base64 of gzip of JSON) holds its deploy times."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    payload = (secret.get("data") or {}).get("release")
    if labels.get("owner") != "helm" or not isinstance(payload, str):
        return
    try:
        raw = base64.b64decode(base64.b64decode(payload))
        zipped = raw[:3] == b"\x1f\x8b\x08"
        release = json.loads(gzip.decompress(raw) if zipped else raw)
    except (ValueError, OSError):
        return
    moved.seen.discard(id(release))
    moved.walk(release)
    text = json.dumps(release, separators=(",", ":")).encode()
    inner = base64.b64encode(gzip.compress(text, compresslevel=9, mtime=0) if zipped else text)
    secret["data"] = {**secret["data"], "release": base64.b64encode(inner).decode()}
