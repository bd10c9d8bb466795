"""The kubeconfig: which files, which contexts, and what the `kubernetes` client gets.

Each file is parsed once per version (path, mtime, size) with libyaml: a fleet of twenty
contexts would otherwise parse the same file forty times with pure-Python PyYAML (once
here to pick the context, once inside `kubernetes.config.load_kube_config`), which was
a quarter of a fleet run's CPU.
"""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from castui.clients.errors import ConfigurationError

if TYPE_CHECKING:
    from kubernetes.config.kube_config import ConfigNode

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: the kinds of named entries a kubeconfig holds
KINDS = (("contexts", "context"), ("clusters", "cluster"), ("users", "user"))

_parsed: dict[tuple[str, int, int], dict[str, Any]] = {}
_parsed_lock = threading.Lock()


class Selected(NamedTuple):
    """A context of the merged kubeconfig: its name, cluster name and server."""

    context: str
    cluster: str | None
    server: str


def kubeconfig_paths(kubeconfig: str | None) -> list[Path]:
    """The files of `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config (`:`-separated, like kubectl)."""
    raw = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    return [Path(part).expanduser() for part in raw.split(os.pathsep) if part]


def read_kubeconfig(path: Path) -> dict[str, Any]:
    """One file, parsed; callers get the cached document and must not change it."""
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with _parsed_lock:
            cached = _parsed.get(key)
        if cached is not None:
            return cached
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read kubeconfig {path}: {type(exc).__name__}") from None
    if not isinstance(doc, dict):
        raise ConfigurationError(f"kubeconfig {path} is not a kubeconfig")
    with _parsed_lock:
        _parsed[key] = doc
    return doc


def merged_kubeconfig(paths: list[Path]) -> dict[str, Any]:
    """kubectl's rule for several files: the first file to define a name (or current-context) wins.

    Entries are `(path of the file that defined it, entry)`, so relative certificate paths
    can be resolved against their own file, as kubectl does.
    """
    merged: dict[str, Any] = {kind: {} for kind, _ in KINDS}
    merged["current-context"] = None
    for path in paths:
        doc = read_kubeconfig(path)
        for kind, _ in KINDS:
            for entry in doc.get(kind) or []:
                if isinstance(entry, dict) and entry.get("name"):
                    merged[kind].setdefault(entry["name"], (path, entry))
        merged["current-context"] = merged["current-context"] or doc.get("current-context")
    return merged


def existing_files(paths: list[Path]) -> list[Path]:
    return [path for path in paths if path.is_file()]


def kubeconfig_users(kubeconfig: str | None = None) -> list[dict[str, Any]]:
    """The `user` entries of the kubeconfig file(s) castui uses, for the redactor; unreadable files give none."""
    users: list[dict[str, Any]] = []
    for path in existing_files(kubeconfig_paths(kubeconfig)):
        try:
            doc = read_kubeconfig(path)  # parsed once per process: a fleet's gateways read it already
        except ConfigurationError:
            continue
        for entry in doc.get("users") or []:
            user = entry.get("user") if isinstance(entry, dict) else None
            if isinstance(user, dict):
                users.append(user)
    return users


def kube_contexts(kubeconfig: str | None = None) -> list[str]:
    """Every context of the kubeconfig (several files merged as kubectl does), in file order."""
    paths = kubeconfig_paths(kubeconfig)
    existing = existing_files(paths)
    if not existing:
        looked = ", ".join(str(p) for p in paths)
        raise ConfigurationError(f"no kubeconfig found (looked at {looked})", hint="set KUBECONFIG or pass --kubeconfig")
    return list(merged_kubeconfig(existing)["contexts"])


def select_context(paths: list[Path], existing: list[Path], wanted: str | None) -> Selected:
    """The wanted or current context, with its cluster and server; a clear error when unusable."""
    if not existing:
        looked = ", ".join(str(p) for p in paths)
        raise ConfigurationError(
            f"no kubeconfig found (looked at {looked})",
            hint="set KUBECONFIG or pass --kubeconfig, or run castui inside the cluster",
        )
    merged = merged_kubeconfig(existing)
    contexts: dict[str, tuple[Path, dict[str, Any]]] = merged["contexts"]
    name = wanted or merged["current-context"]
    available = ", ".join(sorted(contexts)) or "none"
    if not name:
        raise ConfigurationError(f"the kubeconfig sets no current context; available contexts: {available}")
    if name not in contexts:
        raise ConfigurationError(f"context {name!r} is not in the kubeconfig; available contexts: {available}")
    cluster = (contexts[name][1].get("context") or {}).get("cluster")
    clusters: dict[str, tuple[Path, dict[str, Any]]] = merged["clusters"]
    entry = clusters.get(cluster) if cluster else None
    server = ((entry[1] if entry else {}).get("cluster") or {}).get("server")
    if not server:
        raise ConfigurationError(
            f"context {name!r} points at cluster {cluster!r}, which has no server in the kubeconfig"
        )
    return Selected(name, cluster, server)


def client_config(existing: list[Path], context: str) -> "ConfigNode":
    """What `kubernetes.config.load_kube_config_from_dict` needs for one context, and nothing else.

    Only the context, its cluster and its user, each a private copy (the client may write a
    refreshed token into its user) remembering the file it came from, as the client's own
    merger would. Built from the cached parse, so twenty gateways cost one parse.
    """
    from kubernetes.config.kube_config import ConfigNode

    merged = merged_kubeconfig(existing)
    first_path, first_doc = existing[0], read_kubeconfig(existing[0])
    base = {k: v for k, v in first_doc.items() if k not in {kind for kind, _ in KINDS}}
    base.update({kind: [] for kind, _ in KINDS}, **{"current-context": context})
    root = ConfigNode(str(first_path), copy.deepcopy(base), str(first_path))
    found = merged["contexts"][context]
    wanted = {"contexts": context,
              "clusters": (found[1].get("context") or {}).get("cluster"),
              "users": (found[1].get("context") or {}).get("user")}
    for kind, name in wanted.items():
        if name in merged[kind]:
            path, entry = merged[kind][name]
            root.value[kind].append(ConfigNode(f"{path}/{name}", copy.deepcopy(entry), str(path)))
    return root
