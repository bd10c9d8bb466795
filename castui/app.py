"""The castui app: pick a symptom, watch the checks, read the evidence, apply a verified fix.

The app owns the `Session` (opened in a worker), the `Connection` every header shows,
and what the last runs found. Screens ask it for the session and never call a client
themselves. Keys come from the bindings' stable ids, overridden by `settings.keymap`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.reactive import reactive
from textual.screen import Screen

from castui import heap
from castui.clients.errors import CastuiError
from castui.commands import CastuiCommands
from castui.diagnosis import Diagnosis, SymptomResult
from castui.engine.session import Session
from castui.redaction import redactor_for
from castui.report.redact import Redactor
from castui.widgets.connection_header import Connection, Reach

if TYPE_CHECKING:
    from datetime import datetime

    from textual.notifications import SeverityLevel

    from castui.config import Settings
    from castui.engine.execute import ExecutionResult
    from castui.keymap import Scope
    from castui.screens.help_screen import HelpRow
    from castui.tree.model import Check

HERE = Path(__file__).parent


class CastuiApp(App[int]):
    TITLE = "castui"
    CSS_PATH = HERE / "app.tcss"  # screens and widgets carry their own styles
    COMMANDS = App.COMMANDS | {CastuiCommands}

    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "back", "Back/quit", id="app.back"),
        # not in the footer (it would clip at 80 columns): the header says "K: enter a key" when there is none
        Binding("K", "api_key", "API key", show=False, id="app.api-key"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.commands", priority=True),
        Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit", priority=True),
        Binding("colon", "switch_context", "Switch context", show=False, id="app.switch-context"),
    ]

    connection: reactive[Connection] = reactive(Connection)

    def __init__(self, settings: "Settings", lab: Any = None, *, now: "datetime | None" = None,
                 timings: bool = True) -> None:
        """`now` judges the run at a fixed time (a lab with a fixed clock); `timings=False` hides
        durations and stills the spinner, for screenshots that must not change between runs."""
        super().__init__()
        self.settings = settings
        self.lab = lab
        self.timings = timings
        bundle = getattr(lab, "bundle", None)
        self.session = Session(settings, lab=None if lab is None or bundle else lab.scenario, bundle=bundle,
                               captured_at=now or getattr(lab, "captured_at", None),
                               source=getattr(lab, "source", None), kube_cluster=getattr(lab, "kube_cluster", None))
        self.last_results: dict[str, SymptomResult] = {}
        self.last_diagnosis: Diagnosis | None = None
        self._session_ready = asyncio.Event()
        self._session_problem: str | None = None
        #: active checks' answers, per (context, check id): asked once per session and cluster
        self._consent_answers: dict[tuple[str | None, str], bool] = {}
        self._consent_lock = asyncio.Lock()
        self._heap = heap.SettledHeap()
        #: the kubeconfig's contexts, for the context switcher (read on first use)
        self._contexts: list[str] | None = None
        #: what was wrong with the config file's keymap (each also shown as a notification at start)
        self.keymap_problems: list[str] = []
        self.set_reactive(CastuiApp.connection, self.connection_now())

    # --- start and stop -------------------------------------------------------------------------

    async def on_mount(self) -> None:
        self.check_keymap()
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        else:
            self.notify(f"unknown theme {self.settings.theme!r}; using {self.theme}", severity="warning", markup=False)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        await self.start()

    async def start(self) -> None:
        """The first screen and the session behind it (the fleet app starts on its fleet instead)."""
        from castui.screens.home_screen import HomeScreen

        self.push_screen(HomeScreen())
        self.open_session()

    async def on_unmount(self) -> None:
        self._heap.release()
        await self.session.close()

    # --- another context ------------------------------------------------------------------------

    async def kube_contexts(self) -> list[str]:
        """The kubeconfig's contexts (read once, off the UI thread); none for a replayed bundle."""
        if self.session.bundle:
            return []
        if self._contexts is None:
            from castui.clients.kubeconfig import kube_contexts

            try:
                self._contexts = await asyncio.to_thread(kube_contexts, self.settings.kubeconfig)
            except Exception:  # noqa: BLE001 - no kubeconfig: nothing to switch to (the header says why)
                self._contexts = []
        return self._contexts

    @work(group="switch-context", exclusive=True, exit_on_error=False)
    async def action_switch_context(self) -> None:
        """`:` (k9s's `:ctx`): pick another context of the kubeconfig and reopen castui on it."""
        from castui.screens.context_screen import ContextScreen

        contexts = await self.kube_contexts()
        if not contexts:
            self.notify("No other context to switch to" + (" in a replay." if self.session.bundle else
                        ": the kubeconfig has none castui can read."), markup=False)
            return
        name = await self.push_screen(ContextScreen(contexts, self.session.target().context), wait_for_dismiss=True)
        if name:
            await self.switch_context(name)

    async def switch_context(self, name: str) -> None:
        """Open a session on context `name`, then go back to the home screen on it (the last results are that
        cluster's: they are dropped)."""
        from castui.screens.home_screen import HomeScreen

        settings = self.settings.model_copy(update={"context": name})
        session = Session(settings, lab=self.session.lab, captured_at=self.session.captured_at)
        try:
            await session.open()
        except Exception as error:  # noqa: BLE001 - the old context stays; say why
            from castui.engine.runner import describe

            await session.close()
            self.notify(f"could not open context {name}: {describe(error)}", severity="error", markup=False)
            return
        old = self.session
        while not isinstance(self.screen, HomeScreen) and len(self.screen_stack) > 2:
            await self.pop_screen()  # leaving a triage screen cancels its run
        self.settings = settings
        self.last_diagnosis = None
        self.use_session(session)
        await old.close()
        home = self.screen
        if isinstance(home, HomeScreen):
            home.fill()
        self.notify(f"Now on context {name}.", markup=False)
        await self.check_connectivity()

    @work(exclusive=True, group="session", exit_on_error=False)
    async def open_session(self) -> None:
        try:
            await self.session.open()
        except Exception as error:  # noqa: BLE001 - a broken config shows in the header, not as a traceback
            from castui.engine.runner import describe

            self._session_problem = describe(error)
            self.connection = self.connection.with_(kube=Reach(True, self._session_problem, "configuration"),
                                                    api=Reach(True, self._session_problem, "configuration"))
            return
        finally:
            self._session_ready.set()
        self.connection = self.connection_now(kube=self.connection.kube, api=self.connection.api)
        await self.check_connectivity()

    def use_session(self, session: Session) -> None:
        """Make an open `session` the one every screen asks (a fleet's cluster), forgetting the last results."""
        self.session = session
        self._session_problem = None
        self._session_ready.set()
        self.last_results = {}
        self.connection = self.connection_now()

    async def check_connectivity(self) -> None:
        """Whether the cluster and the API answer, and which cluster this is (for the header)."""
        kinds: dict[str, str] = {}
        states, _ = await asyncio.gather(self.session.connectivity(kinds), self.session.identify())
        self.connection = self.connection_now(kube=Reach(True, states["kube"], kinds.get("kube")),
                                              api=Reach(True, states["api"], kinds.get("api")))

    async def ready_session(self) -> Session:
        """The open session; raises with the reason when it could not open."""
        await self._session_ready.wait()
        if self._session_problem:
            raise CastuiError(self._session_problem)
        return self.session

    def connection_now(self, *, kube: Reach | None = None, api: Reach | None = None) -> Connection:
        target = self.session.target()
        return Connection(
            context=target.context,
            cluster_id=target.cluster_id,
            cluster_name=target.cluster_name,
            region=target.region,
            api_url=target.api_url or self.settings.api_url,
            lab=target.lab,
            bundle=target.bundle,
            captured=f"{target.captured_at:%Y-%m-%d %H:%M} UTC" if target.captured_at else None,
            has_key=bool(self.settings.api_key_value),
            read_only=self.settings.read_only,
            production=self.settings.is_production(target.context, target.kube_cluster, target.cluster_name),
            kube=kube or Reach(),
            api=api or Reach(),
        )

    # --- what screens ask -----------------------------------------------------------------------

    @property
    def executions(self) -> list["ExecutionResult"]:
        """Fixes run in this session (the session keeps them, for the support report)."""
        return self.session.executions

    def redactor(self) -> Redactor:
        """THE redaction for everything on screen (it knows a key typed in later, too)."""
        return redactor_for(self.settings)

    def notify(self, message: str, *, title: str = "", severity: "SeverityLevel" = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast (screens' and widgets' notify come here): its words may quote the cluster or
        the API, so they are redacted and sanitised, and never read as markup."""
        from castui.sanitise import printable, printable_lines

        redact = self.redactor().text
        super().notify(printable_lines(redact(str(message))), title=printable(redact(title)), severity=severity,
                       timeout=timeout, markup=False)

    def remember(self, diagnosis: Diagnosis) -> None:
        self.last_diagnosis = diagnosis
        self.last_results.update({s.id: s for s in diagnosis.symptoms})
        self.connection = self.connection_now(kube=self.connection.kube, api=self.connection.api)
        self.call_after_refresh(self._heap.settle)  # after the results are drawn, while they are read

    def open_triage(self, symptom_ids: list[str] | None) -> None:
        from castui.screens.triage_screen import TriageScreen

        self.push_screen(TriageScreen(symptom_ids))

    def key_for(self, action_id: str) -> str:
        """The key the user presses for a binding id now (after the keymap), as the footer shows it."""
        keys = self._keymap.get(action_id)
        binding = next((b for b in all_bindings() if b.id == action_id), None)
        if binding is None:
            return "?"
        key = (keys or binding.key).split(",")[0]
        return self.get_key_display(binding.with_key(key))

    def screen_actions(self, screen: Screen[Any]) -> list[tuple["HelpRow", str, DOMNode]]:
        """The actions reachable on `screen` now: keys after the keymap, with their stable ids."""
        from castui.screens.help_screen import HelpRow

        grouped: dict[str, tuple[list[str], Binding, DOMNode]] = {}
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.id or not binding.description:
                continue
            keys, _, _ = grouped.setdefault(binding.id, ([], binding, active.node))
            display = self.get_key_display(binding)
            if display not in keys:
                keys.append(display)
        return [(HelpRow(" / ".join(keys), binding.description, action_id), binding.action, node)
                for action_id, (keys, binding, node) in grouped.items()]

    def run_bound_action(self, action: str, namespace: DOMNode) -> None:
        self.call_later(self.run_action, action, namespace)

    # --- app actions ----------------------------------------------------------------------------

    def action_help(self) -> None:
        from castui.screens.help_screen import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        title = type(screen).__name__.removesuffix("Screen") or "castui"
        self.push_screen(HelpScreen(title, [row for row, _, _ in self.screen_actions(screen)]))

    async def action_back(self) -> None:
        """`q`: back one screen; out of the app from the home screen."""
        back = getattr(self.screen, "action_back", None)
        if back is not None:
            result = back()
            if asyncio.iscoroutine(result):
                await result
        elif len(self.screen_stack) > 2:
            self.pop_screen()
        else:
            self.request_quit()

    async def action_quit(self) -> None:
        """ctrl+q: like q on home, it asks when there are results; ctrl+q again on the question quits."""
        from castui.screens.quit_screen import QuitScreen

        if isinstance(self.screen, QuitScreen):
            self.exit(self.quit_code())
        else:
            self.request_quit(self.quit_code())

    def quit_code(self) -> int:
        return 0

    def request_quit(self, code: int = 0) -> None:
        """Quit, asking first when the session has something a quit would lose."""
        from castui.screens.quit_screen import QuitScreen

        what = self.unsaved()
        if what is None:
            self.exit(code)
            return
        self.push_screen(QuitScreen(what), lambda leave: self.exit(code) if leave else None)

    def unsaved(self) -> str | None:
        """What quitting would lose, in words; None when there is nothing."""
        parts = []
        if self.last_results:
            count = len(self.last_results)
            parts.append(f"results for {count} symptom{'s' if count != 1 else ''}")
        if self.executions:
            count = len(self.executions)
            parts.append(f"{count} fix{'es' if count != 1 else ''} run")
        return " and ".join(parts) or None

    async def consent(self, check: "Check") -> bool:
        """Active checks ask once per session and cluster; with no cluster to run in, they do not ask."""
        from castui.screens.consent_screen import ConsentScreen

        session = await self.ready_session()
        if session.kube is None:
            return False
        key = (session.target().context, check.id)
        async with self._consent_lock:
            if key not in self._consent_answers:
                answer = await self.push_screen(ConsentScreen(check, production=self.connection.production),
                                                wait_for_dismiss=True)
                self._consent_answers[key] = bool(answer)
            return self._consent_answers[key]

    def action_api_key(self) -> None:
        from castui.screens.api_key_screen import ApiKeyScreen

        self.push_screen(ApiKeyScreen(), self._key_entered)

    def _key_entered(self, key: str | None) -> None:
        if not key:
            return
        self.session.set_api_key(key)
        self.connection = self.connection.with_(has_key=True, api=Reach())
        self.notify("API key set for this session (kept in memory only); re-running the checks that need the API.")
        self.recheck_connectivity()
        from castui.screens.triage_screen import TriageScreen

        for screen in self.screen_stack:
            if isinstance(screen, TriageScreen):
                screen.rerun_api_checks()

    @work(exclusive=True, group="connectivity", exit_on_error=False)
    async def recheck_connectivity(self) -> None:
        await self._session_ready.wait()
        if not self._session_problem:
            await self.check_connectivity()

    def _theme_changed(self, theme: Any) -> None:
        if theme.name != self.settings.theme:
            self.settings.theme = theme.name
            self.save_theme(theme.name)

    @work(group="save-theme", exclusive=True, exit_on_error=False)
    async def save_theme(self, name: str) -> None:
        """A theme picked in the palette is kept in the config file (the file castui read, else the default one)."""
        from castui.config import config_path
        from castui.config_file import save_theme

        path = Path(self.settings.config_file) if self.settings.config_file else config_path()
        try:
            await asyncio.to_thread(save_theme, path, name)
        except OSError as error:
            self.notify(f"theme {name} is used now but could not be saved in {path}: {error.strerror or error}",
                        severity="warning", markup=False)
            return
        self.settings.config_file = str(path)
        self.notify(f"theme {name} saved in {path}", timeout=3, markup=False)

    def check_keymap(self) -> None:
        """Use the config file's keymap without its unknown ids and clashes, and say which and where."""
        from castui.keymap import check_keymap

        checked = check_keymap(self.settings.keymap, keymap_scopes(), file=self.settings.config_file)
        self.set_keymap(checked.keymap)
        self.keymap_problems = checked.problems
        for problem in checked.problems:
            self.notify(problem, title="keymap", severity="warning", markup=False, timeout=20)


def keymap_scopes() -> list["Scope"]:
    """Bindings active together: each screen with the app's and its widgets'; a modal on its own."""
    from castui.keymap import Scope
    from castui.screens.api_key_screen import ApiKeyScreen
    from castui.screens.confirm_screen import ConfirmScreen
    from castui.screens.consent_screen import ConsentScreen
    from castui.screens.context_screen import ContextScreen
    from castui.screens.escalation_screen import EscalationScreen
    from castui.screens.fleet_screen import FleetScreen
    from castui.screens.help_screen import HelpScreen
    from castui.screens.home_screen import HomeScreen
    from castui.screens.quit_screen import QuitScreen
    from castui.screens.remediation_screen import RemediationScreen
    from castui.screens.suppress_screen import SuppressScreen
    from castui.screens.triage_screen import TriageScreen
    from castui.widgets.evidence_pane import EvidencePane
    from castui.widgets.evidence_table import EvidenceTable
    from castui.widgets.json_view import JsonView
    from castui.widgets.log_pane import FindInput
    from castui.widgets.log_view import LogView
    from castui.widgets.triage_tree import TriageTree

    def of(*owners: type[Any]) -> list[Binding]:
        return [b for owner in owners for b in owner.BINDINGS if isinstance(b, Binding)]

    triage = (CastuiApp, TriageScreen, EvidencePane)
    return [
        Scope("home", of(CastuiApp, HomeScreen)),
        Scope("triage", of(*triage, TriageTree)),
        Scope("triage (log)", of(*triage, LogView)),
        Scope("triage (log search)", of(*triage, FindInput)),
        Scope("triage (table)", of(*triage, EvidenceTable)),
        Scope("triage (JSON)", of(*triage, JsonView)),
        Scope("fix", of(CastuiApp, RemediationScreen)),
        Scope("escalation", of(CastuiApp, EscalationScreen)),
        Scope("fleet", of(CastuiApp, FleetScreen)),
        *[Scope(name, of(modal)) for name, modal in (("help", HelpScreen), ("confirmation", ConfirmScreen),
                                                      ("consent", ConsentScreen), ("quit", QuitScreen),
                                                      ("API key", ApiKeyScreen), ("suppress", SuppressScreen),
                                                      ("context", ContextScreen))],
    ]


def all_bindings() -> Iterable[Binding]:
    """Every binding castui defines, for the keymap check and key lookups."""
    from castui.screens.api_key_screen import ApiKeyScreen
    from castui.screens.confirm_screen import ConfirmScreen
    from castui.screens.consent_screen import ConsentScreen
    from castui.screens.context_screen import ContextScreen
    from castui.screens.escalation_screen import EscalationScreen
    from castui.screens.fleet_screen import FleetScreen
    from castui.screens.help_screen import HelpScreen
    from castui.screens.home_screen import HomeScreen
    from castui.screens.quit_screen import QuitScreen
    from castui.screens.remediation_screen import RemediationScreen
    from castui.screens.suppress_screen import SuppressScreen
    from castui.screens.triage_screen import TriageScreen
    from castui.widgets.evidence_pane import EvidencePane
    from castui.widgets.evidence_table import EvidenceTable
    from castui.widgets.json_view import JsonView
    from castui.widgets.log_pane import FindInput
    from castui.widgets.log_view import LogView
    from castui.widgets.triage_tree import TriageTree

    owners = (CastuiApp, HomeScreen, TriageScreen, RemediationScreen, EscalationScreen, FleetScreen, HelpScreen, ConfirmScreen,
              ConsentScreen, QuitScreen, SuppressScreen, ContextScreen, ApiKeyScreen, EvidencePane, EvidenceTable, JsonView, LogView,
              FindInput, TriageTree)
    for owner in owners:
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding):
                yield binding
