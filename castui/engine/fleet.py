"""Many clusters at once: one `Session` per kube context, one CAST AI API client and one
memo of the account-wide answers (cluster list, API tokens, Helm index) for all of them.

Clusters run concurrently, at most `parallel` at a time, each with its own settings
(its context), its own timeouts and an overall deadline, so a cluster that does not
answer is `unknown` with its reason and never holds the others back. Results stream
as events, so the CLI can show progress and the fleet screen can fill in live.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from castui import __version__
from castui.clients.errors import CastuiError
from castui.diagnosis import (
    CauseResult,
    CauseVerdict,
    Diagnosis,
    StatusPage,
    SymptomResult,
    SymptomVerdict,
)
from castui.engine.deadline import DEADLINE_FACTOR as DEADLINE_FACTOR  # a cluster's deadline, as a run's
from castui.engine.facts import Facts, in_kube_thread
from castui.engine.runner import RunEvent, describe
from castui.engine.session import Session
from castui.tree import SYMPTOMS, cause_ids, symptom

if TYPE_CHECKING:
    import httpx

    from castui.clients.castai import CastaiClient
    from castui.config import Settings

SCHEMA = "castui.fleet/v2"
#: clusters checked at once. Each context is its own API server, so checking them together asks no
#: server more than one diagnosis does, and the account-wide CAST AI reads are made once for all: 20
#: checks a typical fleet in one wave (8 took three, each a chain of round trips: ×2.1 of one cluster at 50 ms)
DEFAULT_PARALLEL = 20
#: a fleet member's Kubernetes reads in flight at once. Alone, castui sends a cluster ~15 reads at
#: once, each on a new TLS connection; in a fleet the other clusters keep the CPU busy anyway. Measured
#: on twenty lab clusters (medians of five): 2 lanes ×2.27 of one cluster, 3 ×2.06, 4 ×1.93, 6 ×2.00
KUBE_LANES = 4


# --- the result ---------------------------------------------------------------------------------


class FleetCluster(BaseModel):
    context: str
    cluster_id: str | None = None
    #: why the cluster could not be (fully) checked, e.g. its API server does not answer
    error: str | None = None
    diagnosis: Diagnosis

    def confirmed_by_symptom(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for s, c in self.diagnosis.confirmed():
            found.setdefault(s.id, []).append(c.id)
        return found


class FleetReport(BaseModel):
    schema_: str = Field(SCHEMA, alias="schema")
    castui_version: str = __version__
    generated_at: datetime
    duration_ms: float | None = None
    #: the symptoms every cluster was checked for, in tree order
    symptoms: list[str]
    clusters: list[FleetCluster]
    #: cause id → contexts where it is confirmed
    summary: dict[str, list[str]]
    status_page: StatusPage | None = None
    exit_code: int = 0
    #: the processes the clusters were checked in (see castui.engine.fleet_processes)
    processes: int = 1

    model_config = {"populate_by_name": True}

    def to_json_dict(
        self, redact_data: Callable[[Any], Any] = lambda data: data, redact_text: Callable[[str], str] = lambda text: text
    ) -> dict[str, Any]:
        """The fleet document; each cluster's `diagnosis` is exactly its castui.diagnosis/v2 document
        (redacted as `diagnose --format json` redacts it). Cause ids and contexts are not secrets, and a
        key-based redaction would take `{"invalid-api-key": [...]}` for one: the summary stays as it is."""
        data = self.model_dump(mode="json", by_alias=True, exclude={"clusters"})
        data["clusters"] = [
            {"context": c.context, "cluster_id": c.cluster_id, "error": redact_text(c.error) if c.error else None,
             "diagnosis": redact_data(c.diagnosis.to_json_dict())}
            for c in self.clusters
        ]
        return {"schema": data.pop("schema"), "clusters": data.pop("clusters"), "summary": data.pop("summary"), **data}


def fleet_exit_code(clusters: Iterable[FleetCluster]) -> int:
    """1 if a cause is confirmed anywhere; else 3 if anything could not be checked; else 0."""
    codes = [c.diagnosis.exit_code for c in clusters]
    if 1 in codes:
        return 1
    if any(code == 3 for code in codes) or any(c.error for c in clusters):
        return 3
    return 0


def summarise(clusters: Iterable[FleetCluster]) -> dict[str, list[str]]:
    order = {cause: i for i, cause in enumerate(cause_ids())}
    summary: dict[str, list[str]] = {}
    for cluster in clusters:
        for _, cause in cluster.diagnosis.confirmed():
            contexts = summary.setdefault(cause.id, [])
            if cluster.context not in contexts:
                contexts.append(cluster.context)
    return dict(sorted(summary.items(), key=lambda item: order.get(item[0], len(order))))


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterStarted:
    context: str


@dataclass(frozen=True)
class ClusterProgress:
    context: str
    event: RunEvent


@dataclass(frozen=True)
class ClusterFinished:
    result: FleetCluster


FleetEvent = ClusterStarted | ClusterProgress | ClusterFinished


# --- the run ------------------------------------------------------------------------------------


class MemberSession(Session):
    """A cluster's session inside a fleet: its own kube gateway; the fleet's API client and memo."""

    def __init__(self, settings: "Settings", fleet: "Fleet") -> None:
        super().__init__(settings)
        self.fleet = fleet
        self.opened = False
        #: the memo of account-wide answers for the current run (set by the fleet before each run)
        self.memo: dict[Any, asyncio.Future[Any]] | None = None

    async def open(self) -> "MemberSession":
        await self.open_kube(lanes=KUBE_LANES)
        self._castai, self._http = self.fleet.castai, self.fleet.http  # one API client for the whole fleet
        self.opened = True
        return self

    async def close(self) -> None:
        if self.kube is not None:
            self.kube.close()  # the API client and http belong to the fleet

    def new_facts(self) -> Facts:
        facts = super().new_facts()
        facts.shared = self.memo
        return facts


class Fleet:
    """The clusters of one kubeconfig (or the named contexts), diagnosed side by side."""

    def __init__(self, settings: "Settings", contexts: Iterable[str], *, parallel: int = DEFAULT_PARALLEL) -> None:
        self.settings = settings
        self.contexts = list(dict.fromkeys(contexts))  # in order, once each
        if not self.contexts:
            raise CastuiError("no kube context to check", hint="name them with --context, or use --all-contexts")
        if parallel < 1:
            raise CastuiError(f"--parallel must be at least 1, not {parallel}")
        self.parallel = parallel
        self.castai: CastaiClient | None = None
        self.http: httpx.AsyncClient | None = None
        self.sessions: dict[str, MemberSession] = {}
        #: the last result of each context
        self.results: dict[str, FleetCluster] = {}

    async def open(self) -> "Fleet":
        from castui.clients.castai import CastaiClient
        from castui.clients.http import create_client

        self.castai = CastaiClient(self.settings.api_url, self.settings.api_key_value, timeout=self.settings.timeout)
        self.http = create_client(self.settings.timeout)
        self.sessions = {c: MemberSession(self.settings.model_copy(update={"context": c}), self) for c in self.contexts}
        return self

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.sessions.values()), return_exceptions=True)
        if self.castai is not None:
            await self.castai.aclose()
        if self.http is not None:
            await self.http.aclose()

    async def __aenter__(self) -> "Fleet":
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def deadline(self) -> float:
        return self.settings.timeout * DEADLINE_FACTOR

    async def session(self, context: str) -> MemberSession:
        """The context's session, opened (the app's triage of one cluster uses it)."""
        session = self.sessions[context]
        if not session.opened:
            await session.open()
        return session

    async def run(
        self,
        symptom_ids: Iterable[str] | None = None,
        *,
        on_event: Callable[[FleetEvent], Any] | None = None,
        with_status_page: bool = False,
        memo: dict[Any, asyncio.Future[Any]] | None = None,
    ) -> FleetReport:
        """Every cluster, at most `parallel` at once; the account-wide answers fetched once for all
        (or given in `memo`, already fetched: see castui.engine.fleet_processes)."""
        ids = list(symptom_ids) if symptom_ids else None
        started = time.perf_counter()
        memo = {} if memo is None else memo
        gate = asyncio.Semaphore(self.parallel)

        async def one(context: str) -> FleetCluster:
            async with gate:
                return await self.run_cluster(context, ids, memo=memo, on_event=on_event)

        status_task = asyncio.ensure_future(self.status_page()) if with_status_page else None
        clusters = list(await asyncio.gather(*(one(c) for c in self.contexts)))
        status = await status_task if status_task else None
        return self.report(clusters, ids, status, duration_ms=(time.perf_counter() - started) * 1000)

    def report(self, clusters: list[FleetCluster], symptom_ids: list[str] | None, status: StatusPage | None = None,
               *, duration_ms: float | None = None) -> FleetReport:
        chosen = [symptom(i).id for i in symptom_ids] if symptom_ids else [s.id for s in SYMPTOMS]
        return FleetReport(generated_at=datetime.now(timezone.utc), duration_ms=round(duration_ms, 1) if duration_ms else None,
                           symptoms=chosen, clusters=clusters, summary=summarise(clusters), status_page=status,
                           exit_code=fleet_exit_code(clusters))

    async def run_cluster(
        self,
        context: str,
        symptom_ids: list[str] | None = None,
        *,
        memo: dict[Any, asyncio.Future[Any]] | None = None,
        on_event: Callable[[FleetEvent], Any] | None = None,
    ) -> FleetCluster:
        """One cluster's diagnosis, bounded by the deadline; never raises for the cluster's own failures."""
        emit = on_event or (lambda event: None)
        emit(ClusterStarted(context))
        session = await self.session(context)
        session.memo = memo if memo is not None else {}
        error: str | None = None
        try:
            diagnosis = await asyncio.wait_for(
                session.diagnose(symptom_ids, on_event=lambda event: emit(ClusterProgress(context, event))), self.deadline
            )
        except (asyncio.TimeoutError, TimeoutError):
            error = f"no complete answer within {self.deadline:g}s"
            diagnosis = self.unfinished(context, symptom_ids, error)
        if error is None and diagnosis.exit_code == 3:
            error = await self._unreachable(session)
        result = FleetCluster(context=context, cluster_id=diagnosis.target.cluster_id, error=error, diagnosis=diagnosis)
        self.results[context] = result
        emit(ClusterFinished(result))
        return result

    async def status_page(self) -> StatusPage:
        from castui.clients.statuspage import fetch_status

        assert self.http is not None, "Fleet.open() first"
        return await fetch_status(self.http, self.settings.status_url)

    async def _unreachable(self, session: MemberSession) -> str | None:
        """Why the cluster itself could not be read (None when it answers: some checks just failed)."""
        if session.kube is None:
            return describe(session.kube_error or CastuiError("no Kubernetes connection"))
        try:
            # the client's own timeout fires first and words the reason ("did not answer within 1s")
            await asyncio.wait_for(in_kube_thread(session.kube.version), self.settings.timeout + 1)
        except Exception as error:  # noqa: BLE001 - any failure is the reason shown
            return describe(error)
        return None

    def unfinished(self, context: str, symptom_ids: list[str] | None, reason: str) -> Diagnosis:
        """The diagnosis of a cluster whose run did not end: every cause unknown, with why."""
        chosen = [symptom(i) for i in symptom_ids] if symptom_ids else list(SYMPTOMS)
        results = [
            SymptomResult(id=s.id, title=s.title, verdict=SymptomVerdict.UNKNOWN, summary=f"could not observe: {reason}",
                          causes=[CauseResult(id=c.id, title=c.title, verdict=CauseVerdict.UNKNOWN,
                                              reason=f"could not check: {reason}")
                                  for c in s.causes])
            for s in chosen
        ]
        return self.sessions[context].diagnosis_of(results, duration_ms=self.deadline * 1000)
