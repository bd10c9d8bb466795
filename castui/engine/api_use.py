"""Which checks needed the CAST AI API in a run, learned while they run: a key typed later
re-runs exactly those (the symptoms holding them), not the checks that only read the cluster.

The runner announces each check (`CheckStarted`) from inside the check's own task, so a
context variable set there names the check for everything it asks `Facts`."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, TypeVar

from castui.engine.facts import Facts

T = TypeVar("T")

#: (symptom id, check id) of the check running in this task
CURRENT_CHECK: ContextVar[tuple[str, str] | None] = ContextVar("castui_current_check", default=None)


class TracedFacts(Facts):
    """Facts that note which check asked the CAST AI API (or whether a key is there)."""

    def __init__(self, *args: Any, api_checks: dict[str, set[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_checks = api_checks

    def _note(self) -> None:
        current = CURRENT_CHECK.get()
        if current is not None:
            self.api_checks.setdefault(current[0], set()).add(current[1])

    async def recorded(self, key: tuple[Any, ...], *args: Any, **kwargs: Any) -> Any:
        if key and key[0] == "castai":
            self._note()
        return await super().recorded(key, *args, **kwargs)

    async def has_api_key(self) -> bool:
        self._note()
        return await super().has_api_key()

    def require_api_key(self) -> None:
        self._note()
        super().require_api_key()
