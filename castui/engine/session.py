"""A session is castui's connection to one cluster and the CAST AI API: the one
service that the CLI and the screens ask. It owns the clients and builds a fresh
`Facts` (fetch-once cache) for every run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from castui import __version__
from castui.clients.errors import CastuiError
from castui.diagnosis import CauseResult, Diagnosis, Fix, LogSource, StatusPage, SymptomResult, Target, exit_code_for
from castui.engine.facts import Facts
from castui.engine.runner import CheckStarted, Consent, RunEvent, run_symptoms
from castui.engine.source import LIVE, Source
from castui.tree import SYMPTOMS, symptom

if TYPE_CHECKING:
    import httpx

    from castui.clients.castai import CastaiClient
    from castui.clients.kube import KubeGateway
    from castui.config import Settings
    from castui.engine.execute import ExecutionResult, FixEvent, FixOutcome, FixPlan


class Session:
    def __init__(self, settings: "Settings", *, lab: str | None = None, bundle: str | None = None,
                 captured_at: datetime | None = None, source: Source | None = None, kube_cluster: str | None = None) -> None:
        """`source`: where reads are answered (a replayed bundle's recording, which needs no kubeconfig);
        `kube_cluster`: the kubeconfig cluster name when there is no gateway to ask (a replay)."""
        self.settings = settings
        self.lab = lab
        self.bundle = bundle
        self.source = source or LIVE
        self._kube_cluster = kube_cluster
        #: a replayed bundle is judged at its capture time, not now
        self.captured_at = captured_at
        self.kube: KubeGateway | None = None
        self.kube_error: CastuiError | None = None
        self._castai: CastaiClient | None = None
        self._http: httpx.AsyncClient | None = None
        self.last_facts: Facts | None = None
        #: cluster id learned by the last run (discovered or configured)
        self.cluster_id: str | None = settings.cluster_id
        self.cluster_name: str | None = None
        self.region: str | None = None
        #: fixes run (or dry-run) in this session, oldest first; the audit log keeps them across sessions
        self.executions: list[ExecutionResult] = []
        #: symptom id → its checks that asked the CAST AI API (learned by each run; a typed key re-runs these)
        self.api_checks: dict[str, set[str]] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> "Session":
        from castui.clients.castai import CastaiClient
        from castui.clients.http import create_client

        await self.open_kube()
        self._castai = CastaiClient(self.settings.api_url, self.settings.api_key_value, timeout=self.settings.timeout)
        self._http = create_client(self.settings.timeout)
        return self

    async def open_kube(self, *, lanes: int | None = None) -> None:
        """The Kubernetes gateway for the configured context; a bad kubeconfig is kept as the reason, not raised."""
        from castui.clients.kube import KubeGateway

        if not self.source.live:
            return  # a recording answers every read: no kubeconfig, no cluster

        try:
            self.kube = await asyncio.to_thread(
                lambda: KubeGateway(self.settings.kubeconfig, self.settings.context, timeout=self.settings.timeout,
                                    lanes=lanes)
            )
        except CastuiError as error:
            self.kube_error = error

    async def close(self) -> None:
        if self._castai is not None:
            await self._castai.aclose()
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> "Session":
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def castai(self) -> "CastaiClient":
        assert self._castai is not None, "Session.open() first"
        return self._castai

    def set_api_key(self, key: str) -> None:
        """A key typed into the app: kept in memory only."""
        from pydantic import SecretStr

        from castui.clients.castai import CastaiClient

        self.settings.api_key = SecretStr(key)
        old = self._castai
        self._castai = CastaiClient(self.settings.api_url, key, timeout=self.settings.timeout)
        if old is not None:
            asyncio.ensure_future(old.aclose())

    # --- what screens and commands ask ------------------------------------------------------

    def target(self) -> Target:
        return Target(
            context=self.kube.context_name if self.kube else self.settings.context,
            kube_cluster=self.kube.cluster_name if self.kube else self._kube_cluster,
            cluster_id=self.cluster_id,
            cluster_name=self.cluster_name,
            region=self.region,
            api_url=self.settings.api_url,
            namespace=self.settings.namespace,
            lab=self.lab,
            bundle=self.bundle,
            captured_at=self.captured_at,
        )

    def audit_target(self) -> str:
        """How audit entries name this cluster (`target=`), so `castui report` finds this cluster's fixes."""
        target = self.target()
        return f"context {target.context or '(current)'}, cluster {target.cluster_id or 'unknown'}"

    async def recheck(self, symptom_ids: Iterable[str], *, after: "ExecutionResult | None" = None) -> Diagnosis:
        """Re-run symptoms after a fix and audit the outcome next to the fix, for the support report."""
        from castui.engine.execute import audit

        ids = list(symptom_ids)
        diagnosis = await self.diagnose(ids)
        audit(kind="recheck", target=self.audit_target(), after=after.command if after else None,
              symptoms={s.id: s.verdict.value for s in diagnosis.symptoms},
              still_confirmed=[c.id for _, c in diagnosis.confirmed()])
        return diagnosis

    # --- running a fix ------------------------------------------------------------------------

    def plan_fix(self, fix: Fix, *, command: int = 0, dry_run: bool = False) -> "FixPlan":
        """What `execute` would run (for the confirmation), or why it will not run it."""
        from dataclasses import replace

        from castui.engine.execute import plan_fix

        plan = plan_fix(self.settings, fix, command=command, dry_run=dry_run)
        if not self.source.live:
            # even a read-only command would read whatever cluster its context names now, not the recording
            return replace(plan, refused="this is a replayed bundle: nothing runs against a recording; "
                                         "copy the command and run it on the cluster")
        return plan

    async def execute(
        self,
        fix: Fix,
        *,
        command: int = 0,
        dry_run: bool = False,
        cause: CauseResult | None = None,
        on_event: Callable[["FixEvent"], Any] | None = None,
        cancel: asyncio.Event | None = None,
    ) -> "FixOutcome":
        """Run a fix (its API call, else its `command`-th command; `dry_run`: kubectl's server-side dry
        run) on the diagnosed target, stream its output as `FixOutput` events, keep it in `executions`
        (and the audit log; a `FixRan` event), and when it changed something re-check the fix's symptoms (a
        `FixRechecking` event first) to say whether `cause` is fixed. Nothing is confirmed here: ask the
        user before calling this. Raises ReadOnlyMode when the fix mutates and the session is read-only."""
        from castui.engine.execute import (
            FixOutcome,
            FixOutput,
            FixRan,
            FixRechecking,
            FixStatus,
            apply_api_call,
            rechecked,
            run_command,
            settled,
        )

        emit: Callable[[FixEvent], Any] = on_event or (lambda event: None)
        before = cause.verdict if cause is not None else None
        plan = self.plan_fix(fix, command=command, dry_run=dry_run)
        if plan.refused is not None:
            return FixOutcome(FixStatus.REFUSED, refused=plan.refused, before=before)
        if plan.argv is None:
            run = await apply_api_call(self, fix, target=self.audit_target())
            for stream, line in run.output:
                emit(FixOutput(stream, line))
        else:
            run = await run_command(self.settings, fix, list(plan.argv), target=self.audit_target(),
                                    on_output=lambda stream, line: emit(FixOutput(stream, line)),
                                    dry_run=dry_run, cancel=cancel, session=self)
        self.executions.append(run)
        emit(FixRan(run))
        outcome = settled(fix, run, before)
        if outcome is not None:
            return outcome
        emit(FixRechecking(tuple(fix.recheck)))
        diagnosis = await self.recheck(fix.recheck, after=run)
        return rechecked(run, cause.id if cause is not None else None, before, diagnosis)

    def new_facts(self) -> Facts:
        assert self._http is not None, "Session.open() first"
        now = self.captured_at or datetime.now(timezone.utc)
        from castui.engine.api_use import TracedFacts

        facts = TracedFacts(self.settings, self.kube, self.castai, self._http, now=now, kube_error=self.kube_error,
                            api_checks=self.api_checks, source=self.source)
        self.last_facts = facts
        return facts

    async def diagnose(
        self,
        symptom_ids: Iterable[str] | None = None,
        *,
        on_event: Callable[[RunEvent], Any] | None = None,
        consent: Consent | None = None,
        with_status_page: bool = False,
    ) -> Diagnosis:
        chosen = [symptom(i) for i in symptom_ids] if symptom_ids else list(SYMPTOMS)
        from castui.engine.api_use import CURRENT_CHECK

        previous = self.last_facts
        facts = self.new_facts()
        facts.prefetch(previous)  # the cluster id first; on a re-run, what the last run read, all in one round
        started = time.perf_counter()
        status_task = asyncio.ensure_future(self.status_page()) if with_status_page else None

        def traced(event: RunEvent) -> Any:
            if isinstance(event, CheckStarted):  # sent from inside the check's task: names it for what it asks
                CURRENT_CHECK.set((event.symptom_id, event.check_id))
            return on_event(event) if on_event else None

        results = await run_symptoms(chosen, facts, on_event=traced, consent=consent, named=bool(symptom_ids))
        await self._learn_identity(facts)
        status = await status_task if status_task else None
        return self.diagnosis_of(results, status, duration_ms=(time.perf_counter() - started) * 1000, facts=facts)

    def diagnosis_of(self, results: list[SymptomResult], status: StatusPage | None = None, *,
                     duration_ms: float | None = None, facts: Facts | None = None) -> Diagnosis:
        from castui.suppressions import apply_suppressions

        apply_suppressions(results, self.cluster_id)
        return Diagnosis(
            castui_version=__version__,
            generated_at=(facts.now if facts else datetime.now(timezone.utc)),
            duration_ms=round(duration_ms, 1) if duration_ms is not None else None,
            target=self.target(),
            symptoms=results,
            status_page=status,
            exit_code=exit_code_for(results),
        )

    async def identify(self) -> Target:
        """Learn the cluster id, name and region without running any check (the app's header)."""
        await self._learn_identity(self.new_facts())
        return self.target()

    async def _learn_identity(self, facts: Facts) -> None:
        """Remember the cluster id/name the run found, for the header and the report."""
        try:
            self.cluster_id = await facts.cluster_id()
            cluster = await facts.cluster()
            self.cluster_name = cluster.name
            self.region = cluster.region.name if cluster.region else None
        except Exception:  # noqa: BLE001 - identity is decoration; the findings already say what failed
            pass

    async def status_page(self) -> StatusPage:
        from castui.clients.statuspage import fetch_status

        assert self._http is not None
        http = self._http
        try:
            return await self.source.answer(("status-page",), lambda: fetch_status(http, self.settings.status_url),
                                            StatusPage.model_validate)
        except CastuiError as error:  # a recording without the page (fetch_status itself never raises)
            return StatusPage(available=False, reason=str(error))

    # --- following a log ----------------------------------------------------------------------

    def follow_unavailable(self, source: LogSource | None) -> str | None:
        """Why a log cannot be followed (None: it can): each read of it must ask the cluster now."""
        if source is None:
            return "castui does not know which pod this log came from"
        if not self.source.live:
            return "a replayed bundle has nothing live to read"
        if source.previous:
            return "this is the previous container's log: that container has exited"
        if self.kube is None:
            return f"no cluster to read from: {self.kube_error or 'no Kubernetes connection'}"
        return None

    async def read_log(self, source: LogSource, *, tail: int) -> str:
        """The newest `tail` lines of a container's log, read now through the same door as the checks'
        reads (gateway, timeout, errors), never from a run's memo; raises CastuiError."""
        if (why := self.follow_unavailable(source)) is not None:
            raise CastuiError(why)
        assert self._http is not None, "Session.open() first"
        # a Facts of its own: not the run's (its memo would answer the first read again), not kept as last_facts
        facts = Facts(self.settings, self.kube, self.castai, self._http, kube_error=self.kube_error)
        key = ("logs", source.namespace, source.pod, source.container, False, tail)  # a timeout names the pod
        return await facts.kube_call(key, lambda kube: kube.logs(source.namespace, source.pod, source.container,
                                                                 tail_lines=tail))

    async def connectivity(self, kinds: dict[str, str] | None = None) -> dict[str, str | None]:
        """For the header: does the cluster answer, does the API answer? None means yes; else why not.
        `kinds` gets each failure's error kind (an `unauthorized` side did answer: it rejected the credentials)."""
        facts = self.new_facts()
        kinds = {} if kinds is None else kinds

        async def kube() -> str | None:
            if not self.source.live:
                return None  # the recording is what the cluster answered
            if self.kube is None:
                kinds["kube"] = getattr(self.kube_error, "kind", "configuration")
                return str(self.kube_error or "no kube context")
            try:
                await asyncio.wait_for(asyncio.to_thread(self.kube.version), self.settings.timeout)
                return None
            except Exception as error:  # noqa: BLE001
                from castui.engine.runner import describe

                kinds["kube"] = getattr(error, "kind", "error")
                return describe(error)

        async def api() -> str | None:
            try:
                await facts.clusters()
                return None
            except Exception as error:  # noqa: BLE001
                from castui.engine.runner import describe

                kinds["api"] = getattr(error, "kind", "error")
                return describe(error)

        kube_state, api_state = await asyncio.gather(kube(), api())
        return {"kube": kube_state, "api": api_state}
