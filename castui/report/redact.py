"""The one redaction function every output uses: screens, diagnose, bundles, reports.

It removes the configured API key and the kubeconfig's credentials wherever they
appear (also base64-encoded, as Kubernetes Secrets carry them), and anything shaped
like a credential: bearer tokens, `X-API-Key`/`Authorization` headers, passwords in
URLs, 64-hex-digit keys, values of secret-looking keys (and of `{name, value}` pairs
such as container env), the data of Kubernetes Secrets, and the values inside Helm
release payloads. Counts what it removed, by kind.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

REDACTED = "[REDACTED]"
#: secrets castui read while running (the agent's key from its Secret): every redactor made
#: afterwards knows them, whatever shape they have
_LEARNED: dict[str, str] = {}


def learn_secret(value: str | None, kind: str) -> None:
    """Remember a secret castui has read, before anything it read can be shown."""
    if value and len(value.strip()) >= 4:
        _LEARNED.setdefault(value.strip(), kind)

#: ASCII letters to lower case, nothing else: the copy keeps every position of the original
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass(frozen=True)
class SecretPattern:
    """A credential shape. Group 1 is kept before the secret, group 3 (when there is one) after it.

    `lower`: the pattern is written in lower case and runs, case-sensitively, on an ASCII-lowered
    copy of the text (the same positions), which lets the regex engine skip to its first literal
    instead of trying every position; `anchors`: lower-case strings without which it cannot match.
    Each runs in linear time on any input: a repeated part starts only where it could not also
    start one character earlier (a lookbehind placed after the first literal), and nothing scans
    past the next start of the same shape (`benchmarks/run.py` measures a 1 MB adversarial line).
    """

    kind: str
    regex: re.Pattern[str]
    lower: bool = True
    anchors: tuple[str, ...] = ()


PATTERNS: list[SecretPattern] = [
    # `X-API-Key: v`, `"X-Api-Key":["v"]` (Go's http.Header as JSON), `Authorization: Bearer v`
    SecretPattern("header", re.compile(r"((?:x-api-key|authorization|x-castai-api-key)(?:\\?[\"'])?\s*[:=]\s*\[?\s*(?:\\?[\"'])?"
                                       r"(?:bearer\s+|basic\s+)?)(?!\$\{|\$castai_|\[redacted\])([^\s\\\"',;\]]+)"),
                  anchors=("x-api-key", "authorization", "x-castai-api-key")),
    SecretPattern("cookie", re.compile(r"(cookie(?<![a-z0-9_]cookie)[\"']?\s*[:=]\s*\[?\s*[\"']?)"
                                       r"(?!\[redacted\])([^\r\n\"'\]]+)"), anchors=("cookie",)),
    SecretPattern("bearer-token", re.compile(r"(bearer(?<![a-z0-9]bearer)\s+)(?!\[redacted\])([a-z0-9\-._~+/]{8,}=*)"),
                  anchors=("bearer",)),
    SecretPattern("url-password", re.compile(r"(://[^/\s:@]+:)([^@\s/]+)(@)"), anchors=("://",)),
    SecretPattern("slack-webhook", re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)([a-z0-9/_-]+)"),
                  anchors=("hooks.slack.com",)),
    SecretPattern("aws-access-key", re.compile(r"()((?:AKIA|ASIA|ABIA|ACCA)(?<![A-Z0-9][\s\S]{4})[A-Z0-9]{16})(?![A-Z0-9])"),
                  lower=False, anchors=("akia", "asia", "abia", "acca")),
    SecretPattern("github-token", re.compile(r"()((?:gh[pousr]_|github_pat_)(?<![A-Za-z0-9_]gh._)(?<![A-Za-z0-9_]github_pat_)"
                                             r"[A-Za-z0-9_]{22,})"), lower=False, anchors=("gh", "github_pat_")),
    SecretPattern("slack-token", re.compile(r"()(xox[abposr]-(?<![A-Za-z0-9]xox.-)[A-Za-z0-9-]{10,})"), lower=False,
                  anchors=("xox",)),
    # `--password VALUE`, `--api-key=VALUE` (container args, command lines)
    SecretPattern("flag-value", re.compile(r"(-(?<![\w-]-)-?(?:[a-z0-9]+-)*(?:password|passwd|token|secret|api-?key)(?:\s+|=))"
                                           r"(?!\[redacted\]|\$\{|\$castai_|-)([^\s\"',;]+)"),
                  anchors=("password", "passwd", "token", "secret", "apikey", "api-key")),
    SecretPattern("key-value", re.compile(r"((?:api[_-]?key|apikey|token|password|passwd|secret[_-]?access[_-]?key|secret|"
                                          r"client[_-]?secret)(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)(?!\[redacted\]|\$\{|\$castai_)([^\s\\\"',;}{]{6,})"),
                  anchors=("api_key", "api-key", "apikey", "token", "password", "passwd", "secret")),
    SecretPattern("jwt", re.compile(r"()(eyJ(?<![a-zA-Z0-9_-]eyJ)[a-zA-Z0-9_-]{8,}\.[a-zA-Z0-9_-]{8,}\.[a-zA-Z0-9_-]{8,})"),
                  lower=False, anchors=("eyj",)),
    # a BEGIN without its END is not scanned past the next BEGIN
    SecretPattern("private-key", re.compile(r"()(-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----(?:[^-]++|-(?!----BEGIN |----END ))*+"
                                            r"-----END [A-Z ]{0,40}PRIVATE KEY-----)"), lower=False, anchors=("private key-----",)),
    # CAST AI keys are 64 hex digits; image digests (`sha256:…`) are not secrets
    SecretPattern("key-shaped", re.compile(r"()(?<![0-9a-z])(?<!sha256:)([0-9a-f]{64})(?![0-9a-z])")),
]


#: a command-line flag whose next argument is a secret (`--password`, `--api-key`, `-token`)
SECRET_FLAG = re.compile(r"(?i)^--?(?:[a-z0-9]+-)*(?:password|passwd|token|secret|api-?key)$")
SECRET_KEYS = re.compile(r"(?i)(api[_-]?key|apikey|token|password|passwd|secret|credential|private[_-]?key|client[_-]?secret|certificate-authority-data|client-key-data|client-certificate-data)")


#: a Secret type whose `data.release` is a Helm release: decoded, redacted inside, re-encoded
HELM_RELEASE_TYPE = "helm.sh/release.v1"
#: kubectl keeps a copy of the applied object, Secret data included, in this annotation
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: credentials read from a kubeconfig shorter than this are skipped: they would redact ordinary words
MIN_KUBECONFIG_SECRET = 8
_GZIP_MAGIC = b"\x1f\x8b\x08"
#: strings up to this long are remembered with their redaction (keys, titles, reasons; not logs)
MEMO_MAX_CHARS = 512
MEMO_MAX_ENTRIES = 100_000
_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YamlDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class Redactor:
    """Redacts known secrets (exact values) and secret-shaped text; keeps counts by kind."""

    secrets: list[str] = field(default_factory=list)
    extra_patterns: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    #: known secret (and its base64 forms) → the kind it is counted as
    kinds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._memo: dict[str, tuple[str, Counter[str]]] = {}
        given = [(s, self.kinds.get(s, "api-key")) for s in self.secrets]
        self.kinds, self.secrets = {}, []
        for value, kind in given:
            self.add_secret(value, kind)
        self._extra = [re.compile(p) for p in self.extra_patterns]

    def add_secret(self, value: str | None, kind: str = "api-key") -> None:
        if not value or len(value) < 4:
            return
        # Kubernetes Secrets and Helm manifests carry values base64-encoded
        encoded = base64.b64encode(value.encode()).decode()
        for variant in (value, encoded, encoded.rstrip("=")):
            self.kinds.setdefault(variant, kind)
        self.secrets = sorted(self.kinds, key=len, reverse=True)
        self._memo.clear()

    def text(self, value: str) -> str:
        # documents repeat their keys and phrases many times (a fleet: twenty times over), and a
        # fleet's kubeconfig adds dozens of credentials to look for: each distinct string once
        if len(value) <= MEMO_MAX_CHARS and (known := self._memo.get(value)) is not None:
            if known[1]:  # most strings hold nothing to count
                self.counts.update(known[1])
            return known[0]
        found: Counter[str] = Counter()
        redacted = value
        if self.secrets and len(redacted) >= len(self.secrets[-1]):
            for secret in self.secrets:
                if secret in redacted:
                    found[self.kinds.get(secret, "api-key")] += redacted.count(secret)
                    redacted = redacted.replace(secret, REDACTED)
        lowered = redacted.translate(_ASCII_LOWER)
        for pattern in PATTERNS:
            if pattern.anchors and not any(anchor in lowered for anchor in pattern.anchors):
                continue
            redacted, n = _substitute(pattern, redacted, lowered)
            if n:
                found[pattern.kind] += n
                lowered = redacted.translate(_ASCII_LOWER)
        for pattern in self._extra:
            redacted, n = pattern.subn(REDACTED, redacted)
            found["custom"] += n
        found = +found  # only the kinds that were found
        self.counts.update(found)
        if len(value) <= MEMO_MAX_CHARS and len(self._memo) < MEMO_MAX_ENTRIES:
            self._memo[value] = (redacted, found)
        return redacted

    def data(self, value: Any, key: str = "") -> Any:
        """Redact a JSON-shaped value; values under secret-looking keys are replaced whole.

        So is the `value` of a `{name, value}` pair whose name looks secret (container env).
        """
        if isinstance(value, dict):
            name = value.get("name")
            secret_pair = isinstance(name, str) and "value" in value and bool(SECRET_KEYS.search(name))
            # keys are text too (node names key a summary; a --redact pattern may name them)
            return {(self.text(k) if isinstance(k, str) else k):
                    (self._whole(v, "secret-value") if secret_pair and k == "value" else self.data(v, str(k)))
                    for k, v in value.items()}
        if isinstance(value, list):
            out = [self.data(v, key) for v in value]
            for i in range(1, len(out)):  # container args: ["--password", "VALUE"]
                if isinstance(value[i - 1], str) and SECRET_FLAG.match(value[i - 1]) and isinstance(out[i], str):
                    out[i] = self._whole(out[i], "flag-value") if not out[i].startswith("-") else out[i]
            return out
        if isinstance(value, str):
            if key and SECRET_KEYS.search(key):
                return self._whole(value, "secret-value")
            if key == LAST_APPLIED and value.lstrip().startswith("{"):
                return self._json_text(value)
            return self.text(value)
        return value

    def _json_text(self, value: str) -> str:
        """A JSON document kept as a string (kubectl's last-applied copy): its env values and
        secret-looking fields redacted as data, then written back."""
        try:
            document = json.loads(value)
        except ValueError:
            return self.text(value)
        return json.dumps(self.data(document), separators=(",", ":"))

    def lines(self, values: Iterable[str]) -> list[str]:
        return [self.text(v) for v in values]

    def kube_object(self, obj: Any, resource: str | None = None) -> Any:
        """A Kubernetes object as the API returns it; a Secret's data never survives."""
        if isinstance(obj, dict) and (resource == "secrets" or obj.get("kind") == "Secret"):
            return self.secret(obj)
        return self.data(obj)

    def secret(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A Secret with every value redacted; a Helm release keeps its payload, redacted inside."""
        rest = {k: v for k, v in obj.items() if k not in ("data", "stringData")}
        annotations = (rest.get("metadata") or {}).get("annotations") or {}
        if LAST_APPLIED in annotations:
            rest = {**rest, "metadata": {**rest["metadata"], "annotations": {**annotations, LAST_APPLIED: REDACTED}}}
            self.counts["secret-data"] += 1
        out = self.data(rest)
        data = obj.get("data")
        if isinstance(data, dict):
            helm = obj.get("type") == HELM_RELEASE_TYPE
            out["data"] = {k: self.helm_payload(v) if helm and k == "release" else self._whole_b64(v) for k, v in data.items()}
        if isinstance(obj.get("stringData"), dict):
            out["stringData"] = {k: self._whole(v, "secret-data") for k, v in obj["stringData"].items()}
        return out

    def helm_payload(self, payload: Any) -> str:
        """A Helm release Secret's `data.release` (base64(base64(gzip(JSON))), castai-facts.md §2.5),
        decoded, its values and rendered manifest redacted, and encoded again."""
        try:
            inner = base64.b64decode(str(payload), validate=True)
            raw = base64.b64decode(inner, validate=True)
            release = json.loads(gzip.decompress(raw) if raw[:3] == _GZIP_MAGIC else raw)
        except (binascii.Error, ValueError, OSError, EOFError):
            return self._whole_b64(payload)  # undecodable: nothing of it may stay
        if not isinstance(release, dict):
            return self._whole_b64(payload)
        manifest = release.get("manifest")
        redacted = self.data({k: v for k, v in release.items() if k != "manifest"})
        if isinstance(manifest, str):
            redacted["manifest"] = self.manifest(manifest)
        encoded = gzip.compress(json.dumps(redacted, separators=(",", ":")).encode(), compresslevel=9, mtime=0)
        return base64.b64encode(base64.b64encode(encoded)).decode()

    def manifest(self, text: str) -> str:
        """Rendered YAML documents (a Helm manifest): Secrets lose their data, the rest is redacted."""
        try:
            docs = [d for d in yaml.load_all(text, Loader=_YamlLoader) if d is not None]
        except yaml.YAMLError:
            return self._whole(text, "secret-data") if text.strip() else text
        redacted = [self.kube_object(d) if isinstance(d, dict) else self.data(d) for d in docs]
        return yaml.dump_all(redacted, Dumper=_YamlDumper, sort_keys=False)

    def _whole(self, value: Any, kind: str) -> Any:
        if not isinstance(value, str) or not value or value == REDACTED or value.startswith("${"):
            return value if not isinstance(value, (dict, list)) else self.data(value)
        self.counts[kind] += 1
        return REDACTED

    def _whole_b64(self, value: Any) -> Any:
        """A Secret `data` value: base64 of the marker, so the object still decodes."""
        if not isinstance(value, str) or not value:
            return value
        self.counts["secret-data"] += 1
        return REDACTED_B64


REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()


def _substitute(pattern: SecretPattern, text: str, lowered: str) -> tuple[str, int]:
    """Each match (found in `lowered` or `text`, which share positions) becomes kept + REDACTED + tail."""
    out: list[str] = []
    last = count = 0
    for match in pattern.regex.finditer(lowered if pattern.lower else text):
        keep_end = match.end(1)
        tail_start = match.start(3) if (match.lastindex or 0) >= 3 else match.end()
        out += [text[last:keep_end], REDACTED]
        last, count = tail_start, count + 1
    if not count:
        return text, 0
    out.append(text[last:])
    return "".join(out), count


def kubeconfig_credentials(users: Iterable[Any]) -> list[str]:
    """Tokens, passwords and client keys of kubeconfig `user` entries (the caller reads the files:
    `castui.clients.kubeconfig.kubeconfig_users`), long enough not to redact ordinary words."""
    found: list[str] = []
    for user in users:
        if isinstance(user, dict):
            found.extend(_user_credentials(user))
    return [v for v in dict.fromkeys(found) if len(v) >= MIN_KUBECONFIG_SECRET]


def _user_credentials(user: dict[str, Any]) -> list[str]:
    values = [user.get(k) for k in ("token", "password", "client-key-data")]
    provider = (user.get("auth-provider") or {}).get("config") or {}
    values += [v for k, v in provider.items() if SECRET_KEYS.search(str(k))] if isinstance(provider, dict) else []
    for env in ((user.get("exec") or {}).get("env") or []) if isinstance(user.get("exec"), dict) else []:
        if isinstance(env, dict) and SECRET_KEYS.search(str(env.get("name", ""))):
            values.append(env.get("value"))
    key_data = user.get("client-key-data")
    if isinstance(key_data, str):
        try:  # the decoded PEM, should it ever be printed
            values.append(base64.b64decode(key_data).decode().strip())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
    return [v for v in values if isinstance(v, str) and v]


def redactor_for(settings: Any, *more_secrets: str | None, kubeconfig_users: Iterable[Any]) -> Redactor:
    """The redactor for a run: the configured key, the kubeconfig's credentials, extra patterns from the config.

    `kubeconfig_users` has no default, so no caller can forget the kubeconfig (`castui.cli_support.redactor_for`
    reads it)."""
    secrets = [settings.api_key_value, *more_secrets] if settings is not None else list(more_secrets)
    patterns = list(getattr(settings, "redact_patterns", []) or [])
    redactor = Redactor(secrets=[s for s in secrets if s], extra_patterns=patterns)
    for value, kind in list(_LEARNED.items()):
        redactor.add_secret(value, kind)
    for credential in kubeconfig_credentials(kubeconfig_users):
        redactor.add_secret(credential, "kubeconfig-credential")
    return redactor
