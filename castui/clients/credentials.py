"""A kubeconfig user's credentials, resolved as kubectl resolves them, before the `kubernetes`
client sees the user: exec credential plugins (EKS `aws`, AKS `kubelogin`, GKE, OIDC) and token files.

The client's own plugin runner logs a failing plugin's message as a stray `ERROR:root:` line and
then sends no credentials (every check: "401 Unauthorized"), ignores `installHint`, has no timeout,
and hands the plugin castui's terminal in the middle of the app. Here:

- a plugin that fails says why: its stderr (printable; every output redacts it with castui's one
  redactor, and `prime`'s caller redacts what it echoes), or its install hint when it is missing;
- it never outlives its timeout (its process group is killed), and never gets a terminal it
  cannot have: interactive plugins run on the real terminal before the app takes the screen
  (`prime`), as kubectl runs them; without a terminal, `interactiveMode: Always` is refused at once;
- its answer is kept for the process, until the credential's expirationTimestamp, so a run (or a
  fleet sharing one login) asks once; a failure is kept briefly, so every check of a run gets the
  same reason instead of asking again.
- `tokenFile` is read and trimmed (`kubectl create token x > f` ends it with a newline).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from castui.clients.errors import CastuiError

#: where a plugin's stderr is copied as it comes (a device-code prompt must be seen)
Echo = Callable[[str], None]

#: how long a human may take to answer an interactive plugin (SSO in a browser, an MFA code)
INTERACTIVE_TIMEOUT_S = 300.0
#: a failure is remembered this long: the rest of a run gets its reason without asking again
FAILURE_TTL_S = 30.0
#: a credential this close to its expiry is fetched again
EXPIRY_MARGIN_S = 10.0
#: the last lines of a plugin's stderr that make the reason
STDERR_LINES = 6
STDERR_CHARS = 600
API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins"


class CredentialsFailed(CastuiError):
    """The kubeconfig's credentials could not be obtained (a plugin failed, is missing, needs a terminal)."""

    kind = "credentials"


@dataclass(frozen=True)
class Credential:
    token: str | None = None
    client_certificate_data: str | None = None
    client_key_data: str | None = None
    expires: float | None = None  # epoch seconds

    def fresh(self) -> bool:
        return self.expires is None or time.time() < self.expires - EXPIRY_MARGIN_S


_cache: dict[str, tuple[Credential | CredentialsFailed, float]] = {}
_cache_lock = threading.Lock()
#: one run of a given plugin at a time (a fleet's contexts often share one login)
_running: dict[str, threading.Lock] = {}


def plugin_key(exec_config: dict[str, Any], cluster: dict[str, Any]) -> str:
    return json.dumps([exec_config, cluster.get("server")], sort_keys=True, default=str)


def plugin_name(exec_config: dict[str, Any]) -> str:
    return os.path.basename(str(exec_config.get("command") or "?"))


def cached(key: str) -> Credential | CredentialsFailed | None:
    with _cache_lock:
        entry = _cache.get(key)
    if entry is None:
        return None
    value, at = entry
    if isinstance(value, CredentialsFailed):
        return value if time.monotonic() - at < FAILURE_TTL_S else None
    return value if value.fresh() else None


def forget() -> None:
    """Drop every remembered credential and failure (tests; a user who logged in again)."""
    with _cache_lock:
        _cache.clear()


def exec_credential(
    exec_config: dict[str, Any],
    cluster: dict[str, Any],
    base_dir: Path,
    *,
    timeout: float,
    terminal: bool = False,
    echo: Echo | None = None,
) -> Credential:
    """The plugin's credential: remembered, or from running it.

    `terminal`: the plugin may talk to the user on this process's terminal (stdin and stderr);
    `echo`: called with its stderr as it comes (the CLI shows it, redacted, where a device-code
    prompt must be seen); captured either way for the reason of a failure.
    """
    key = plugin_key(exec_config, cluster)
    with _cache_lock:
        lock = _running.setdefault(key, threading.Lock())
    with lock:
        known = cached(key)
        if isinstance(known, CredentialsFailed):
            raise known
        if known is not None:
            return known
        try:
            credential = _run(exec_config, cluster, base_dir, timeout=timeout, terminal=terminal, echo=echo)
        except CredentialsFailed as failure:
            with _cache_lock:
                _cache[key] = (failure, time.monotonic())
            raise
        with _cache_lock:
            _cache[key] = (credential, time.monotonic())
        return credential


def interactive_mode(exec_config: dict[str, Any]) -> str:
    """`Never`, `IfAvailable` or `Always`; v1 requires it, v1beta1 defaults to IfAvailable (as client-go)."""
    mode = exec_config.get("interactiveMode")
    if not mode:
        if exec_config.get("apiVersion") == "client.authentication.k8s.io/v1":
            raise CredentialsFailed(
                f"the credential plugin `{plugin_name(exec_config)}` uses client.authentication.k8s.io/v1 "
                "without interactiveMode, which that version requires",
                hint="add `interactiveMode: IfAvailable` (or Never) to the user's exec section, as kubectl also asks",
            )
        return "IfAvailable"
    if mode not in ("Never", "IfAvailable", "Always"):
        raise CredentialsFailed(f"the credential plugin's interactiveMode {mode!r} is not Never, IfAvailable or Always")
    return str(mode)


def wants_terminal(exec_config: dict[str, Any]) -> bool:
    try:
        return interactive_mode(exec_config) != "Never"
    except CredentialsFailed:
        return False


def _command(exec_config: dict[str, Any], base_dir: Path) -> str:
    command = str(exec_config.get("command") or "")
    if not command:
        raise CredentialsFailed("the kubeconfig's exec section names no command")
    if os.sep in command and not os.path.isabs(command):
        command = str(base_dir / command)  # client-go resolves a relative path against the kubeconfig's folder
    found = shutil.which(command)
    if found is None:
        hint = " ".join(str(exec_config.get("installHint") or "").split())
        raise CredentialsFailed(
            f"the credential plugin `{command}` is not installed (not found on PATH)",
            hint=hint or f"install it; see {DOCS}",
        )
    return found


def _exec_info(exec_config: dict[str, Any], cluster: dict[str, Any], interactive: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"interactive": interactive}
    if exec_config.get("provideClusterInfo"):
        info: dict[str, Any] = {"server": cluster.get("server")}
        for ours, theirs in (("certificate-authority-data", "certificate-authority-data"),
                             ("tls-server-name", "tls-server-name"), ("proxy-url", "proxy-url"),
                             ("insecure-skip-tls-verify", "insecure-skip-tls-verify")):
            if cluster.get(ours):
                info[theirs] = cluster[ours]
        for extension in cluster.get("extensions") or []:
            if isinstance(extension, dict) and extension.get("name") == "client.authentication.k8s.io/exec":
                info["config"] = extension.get("extension")
        spec["cluster"] = info
    return {"apiVersion": exec_config.get("apiVersion"), "kind": "ExecCredential", "spec": spec}


def _run(exec_config: dict[str, Any], cluster: dict[str, Any], base_dir: Path, *, timeout: float,
         terminal: bool, echo: Echo | None) -> Credential:
    name = plugin_name(exec_config)
    api_version = exec_config.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise CredentialsFailed(f"the credential plugin `{name}` asks for apiVersion {api_version!r}; "
                                f"kubectl and castui support {', '.join(API_VERSIONS)}")
    mode = interactive_mode(exec_config)
    interactive = terminal and mode != "Never"
    if mode == "Always" and not interactive:
        raise CredentialsFailed(
            f"the credential plugin `{name}` needs a terminal (interactiveMode: Always), and there is none",
            hint="run it once in a terminal (e.g. `kubectl get ns`) to log in, or run castui from a terminal",
        )
    argv = [_command(exec_config, base_dir), *[str(a) for a in exec_config.get("args") or []]]
    env = dict(os.environ)
    for item in exec_config.get("env") or []:
        if isinstance(item, dict) and item.get("name"):
            env[str(item["name"])] = str(item.get("value") or "")
    env["KUBERNETES_EXEC_INFO"] = json.dumps(_exec_info(exec_config, cluster, interactive))
    limit = max(timeout, INTERACTIVE_TIMEOUT_S) if interactive else timeout
    try:
        # not interactive: its own session, so the whole group can be killed and it can never
        # open castui's terminal; interactive: in castui's foreground group, so it may read the tty
        process = subprocess.Popen(argv, stdin=None if interactive else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=env, cwd=str(base_dir) if base_dir.is_dir() else None,
                                   start_new_session=not interactive)
    except OSError as exc:
        raise CredentialsFailed(f"the credential plugin `{name}` could not start: {exc.strerror or exc}") from None
    stderr_chunks: list[bytes] = []
    copier = threading.Thread(target=_copy_stderr, args=(process.stderr, stderr_chunks, echo or (_to_stderr if interactive else None)),
                              name="castui-plugin-stderr", daemon=True)
    copier.start()
    try:
        stdout, _ = _communicate(process, limit)
    except subprocess.TimeoutExpired:
        _kill(process, group=not interactive)
        copier.join(timeout=1)
        raise CredentialsFailed(
            f"the credential plugin `{name}` gave no answer within {limit:g}s and was stopped"
            + _said(stderr_chunks, prefix="; it said: "),
            hint="is it waiting for a login in a browser or a terminal? run `kubectl get ns` once in a terminal",
        ) from None
    except KeyboardInterrupt:
        _kill(process, group=not interactive)
        raise
    copier.join(timeout=1)
    if process.returncode != 0:
        said = _said(stderr_chunks)
        raise CredentialsFailed(f"the credential plugin `{name}` failed (exit {process.returncode})"
                                + (f": {said}" if said else " and said nothing on stderr"))
    return _parse(stdout, name, api_version)


def _communicate(process: subprocess.Popen[bytes], limit: float) -> tuple[bytes, None]:
    assert process.stdout is not None
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(process.stdout.read() if process.stdout else b""), daemon=True)
    reader.start()
    process.wait(timeout=limit)
    reader.join(timeout=limit)
    return (out[0] if out else b""), None


def _to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _copy_stderr(stream: IO[bytes] | None, chunks: list[bytes], echo: Echo | None) -> None:
    """Keep the plugin's stderr for the reason, copying it as it comes where the user can see it."""
    if stream is None:
        return
    fd = stream.fileno()
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        chunks.append(chunk)
        if echo is not None:
            try:
                echo(_printable(chunk.decode("utf-8", "replace"), keep_newlines=True))
            except (OSError, ValueError):
                echo = None


def _printable(text: str, *, keep_newlines: bool = False) -> str:
    """Plugin output is hostile: no escape sequences or control characters reach a terminal."""
    allowed = "\n\t" if keep_newlines else "\t"
    return "".join(c if (c.isprintable() or c in allowed) else ("\n" if c == "\r" and keep_newlines else "") for c in text)


def _said(chunks: list[bytes], *, prefix: str = "") -> str:
    """The plugin's last stderr lines, printable, on one line (outputs redact them)."""
    text = b"".join(chunks).decode("utf-8", "replace")
    lines = [" ".join(_printable(line).split()) for line in text.splitlines()]
    said = " / ".join([line for line in lines if line][-STDERR_LINES:])
    if len(said) > STDERR_CHARS:
        said = "…" + said[-STDERR_CHARS:]
    return f"{prefix}{said}" if said else ""


def _kill(process: subprocess.Popen[bytes], *, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _parse(stdout: bytes, name: str, api_version: str) -> Credential:
    try:
        data = json.loads(stdout)
    except ValueError:
        raise CredentialsFailed(f"the credential plugin `{name}` printed something that is not an ExecCredential "
                                "(not JSON)") from None
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential" or not isinstance(data.get("status"), dict):
        raise CredentialsFailed(f"the credential plugin `{name}` printed no ExecCredential with a status")
    if data.get("apiVersion") != api_version:
        raise CredentialsFailed(f"the credential plugin `{name}` answered {data.get('apiVersion')!r}, "
                                f"not the {api_version!r} the kubeconfig asked for")
    status = data["status"]
    token = status.get("token") if isinstance(status.get("token"), str) else None
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if not token and not (isinstance(cert, str) and isinstance(key, str) and cert and key):
        raise CredentialsFailed(f"the credential plugin `{name}` returned neither a token nor a client "
                                "certificate and key")
    expires = None
    stamp = status.get("expirationTimestamp")
    if isinstance(stamp, str) and stamp:
        try:
            expires = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise CredentialsFailed(f"the credential plugin `{name}` returned an expirationTimestamp that is "
                                    "not a time") from None
    return Credential(token=token or None, client_certificate_data=cert if isinstance(cert, str) and cert else None,
                      client_key_data=key if isinstance(key, str) and key else None, expires=expires)


def resolve_user(user: dict[str, Any], cluster: dict[str, Any], base_dir: Path, *, timeout: float,
                 terminal: bool = False, echo: Echo | None = None) -> float | None:
    """Rewrite a kubeconfig user entry (a private copy) so the client needs no plugin and no token file.

    Returns when its credential expires (epoch seconds), or None.
    """
    token_file = user.get("tokenFile")
    if token_file and not user.get("token"):
        path = Path(str(token_file)).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            user["token"] = path.read_text(encoding="utf-8").strip()  # as client-go: TrimSpace
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialsFailed(f"cannot read the kubeconfig's tokenFile {path}: "
                                    f"{getattr(exc, 'strerror', None) or type(exc).__name__}") from None
        del user["tokenFile"]
    exec_config = user.get("exec")
    if not isinstance(exec_config, dict):
        return None
    credential = exec_credential(exec_config, cluster, base_dir, timeout=timeout, terminal=terminal, echo=echo)
    del user["exec"]
    if credential.token:
        user["token"] = credential.token
    else:
        assert credential.client_certificate_data and credential.client_key_data
        user["client-certificate-data"] = base64.b64encode(credential.client_certificate_data.encode()).decode()
        user["client-key-data"] = base64.b64encode(credential.client_key_data.encode()).decode()
        user.pop("client-certificate", None)
        user.pop("client-key", None)
    return credential.expires


def on_terminal() -> bool:
    """client-go's rule: a plugin may be interactive when standard input is a terminal."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def resolve_config(root: Any, *, timeout: float, terminal: bool = False, echo: Echo | None = None) -> float | None:
    """`resolve_user` on the one user of a `kubeconfig.client_config` answer (a ConfigNode)."""
    users, clusters = root.value.get("users") or [], root.value.get("clusters") or []
    if not users:
        return None
    node = users[0]
    entry = node.value if hasattr(node, "value") else node
    user = entry.get("user") if isinstance(entry, dict) else None
    if not isinstance(user, dict):
        return None
    cluster_entry = (clusters[0].value if clusters and hasattr(clusters[0], "value") else (clusters or [{}])[0]) or {}
    cluster = cluster_entry.get("cluster") or {}
    base_dir = Path(str(getattr(node, "path", "") or ".")).parent
    return resolve_user(user, cluster, base_dir, timeout=timeout, terminal=terminal, echo=echo)


def _runs_a_plugin(files: list[Path], context: str) -> bool:
    """Whether the context's user has an exec credential plugin, read from the parsed kubeconfig alone."""
    from castui.clients.kubeconfig import merged_kubeconfig

    merged = merged_kubeconfig(files)
    found: tuple[Any, dict[str, Any]] = merged["contexts"].get(context) or (None, {})
    user_name = (found[1].get("context") or {}).get("user")
    entry: tuple[Any, dict[str, Any]] = merged["users"].get(user_name) or (None, {})
    user = entry[1].get("user") or {}
    return isinstance(user, dict) and isinstance(user.get("exec"), dict)


def prime(kubeconfig: str | None, contexts: list[str | None], *, timeout: float, echo: Echo | None) -> None:
    """Run the contexts' credential plugins now, before the app takes the screen (or the CLI's checks
    start): on the terminal when there is one, as kubectl runs them. Answers and failures are
    remembered for the checks; nothing here raises (a failure is each check's reason)."""
    from castui.clients.errors import ConfigurationError
    from castui.clients.kubeconfig import client_config, existing_files, kubeconfig_paths, select_context

    paths = kubeconfig_paths(kubeconfig)
    files = existing_files(paths)
    if not files:
        return
    for context in contexts:
        try:
            name = select_context(paths, files, context).context
            if not _runs_a_plugin(files, name):
                continue  # and no `kubernetes` import (client_config's ConfigNode) for a token or certificate
            root = client_config(files, name)
            users = root.value.get("users") or []
            user = (users[0].value.get("user") or {}) if users else {}
            if not isinstance(user.get("exec"), dict):
                continue
            resolve_config(root, timeout=timeout, terminal=on_terminal() and wants_terminal(user["exec"]), echo=echo)
        except (CastuiError, ConfigurationError, OSError, KeyError, TypeError, AttributeError):
            continue
