"""Whatever a server or a file says, castui's parsers answer with a value or a
`MalformedResponse` (castui's error for an answer it cannot read), never a raw exception
and never another kind of error: a test named "fails as malformed" lets only that one pass.

The inputs are the lab's real documents with any part replaced by arbitrary JSON
(or dropped), so the fuzzing reaches deep fields, plus wholly arbitrary JSON and
bytes. HTTP answers come over real HTTP from a stub server on 127.0.0.1.
Profiles (fixed examples by default, `CASTUI_FUZZ_EXAMPLES=N` for a long random
run) are in `conftest.py`.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from castui.clients import helm, helmrepo, statuspage, terraform
from castui.clients.castai import CastaiClient
from castui.clients.errors import MalformedResponse
from castui.clients.kube import KubeGateway
from castui.lab.scenarios import CLUSTER_ID, build
from castui.tree import reading
from tests.trust.conftest import FUZZ

# --- inputs ---------------------------------------------------------------------------------------

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
ANY_JSON = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                        max_leaves=15)


def shaped(document: Any) -> st.SearchStrategy[Any]:
    """`document`, with any subtree possibly replaced by arbitrary JSON, dict keys possibly dropped,
    and lists possibly shortened or repeated."""
    if isinstance(document, dict):
        inner = st.fixed_dictionaries({}, optional={k: shaped(v) for k, v in document.items()})
    elif isinstance(document, list) and document:
        inner = st.lists(shaped(document[0]), max_size=3)
    else:
        inner = st.just(document)
    return st.one_of(inner, inner, inner, ANY_JSON)


LAB = build("healthy")
STATE = LAB.state
API = STATE.castai
DOCUMENTS = {
    "clusters": {"items": API.clusters},
    "cluster": API.clusters[0],
    "policies": API.policies[CLUSTER_ID],
    "node-templates": {"items": API.node_templates[CLUSTER_ID]},
    "workloads": {"workloads": API.workloads[CLUSTER_ID], "nextCursor": ""},
    "tokens": {"items": API.auth_tokens},
}


# --- a stub server: answers every request with the body of the moment ----------------------------


class Stub:
    def __init__(self) -> None:
        self.body = b"{}"
        self.content_type = "application/json"
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out apart: no 40 ms wait for a delayed ACK

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = stub.body
                self.send_response(200)
                self.send_header("Content-Type", stub.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def answer(self, body: bytes, content_type: str = "application/json") -> None:
        self.body, self.content_type = body, content_type

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    server = Stub()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(scope="module")
def castai(stub: Stub, loop: asyncio.Runner) -> Iterator[CastaiClient]:
    """One client for every example: building an HTTP client (its TLS context) costs more than a request."""
    client = CastaiClient(stub.url, "fuzz-key", timeout=5)
    yield client
    loop.run(client.aclose())


@pytest.fixture(scope="module")
def http(loop: asyncio.Runner) -> Iterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(timeout=5)
    yield client
    loop.run(client.aclose())


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- the CAST AI API --------------------------------------------------------------------------------

CALLS = {
    "clusters": lambda c: c.list_clusters(),
    "cluster": lambda c: c.get_cluster(CLUSTER_ID),
    "policies": lambda c: c.get_policies(CLUSTER_ID),
    "node-templates": lambda c: c.list_node_templates(CLUSTER_ID),
    "workloads": lambda c: c.list_workloads(CLUSTER_ID),
    "tokens": lambda c: c.list_auth_tokens(),
}


@pytest.mark.parametrize("endpoint", sorted(CALLS))
@FUZZ
@given(data=st.data())
def test_castai_answers_parse_or_fail_as_malformed(endpoint: str, data: st.DataObject, stub: Stub, loop: asyncio.Runner,
                                                   castai: CastaiClient) -> None:
    stub.answer(as_json(data.draw(shaped(DOCUMENTS[endpoint]), label=endpoint)))

    async def call() -> None:
        try:
            await CALLS[endpoint](castai)
        except MalformedResponse:
            pass

    loop.run(call())


@FUZZ
@given(body=st.binary(max_size=200))
def test_castai_answers_that_are_not_json_fail_as_malformed(body: bytes, stub: Stub, loop: asyncio.Runner,
                                                           castai: CastaiClient) -> None:
    stub.answer(body)

    async def call() -> None:
        for endpoint in CALLS.values():
            try:
                await endpoint(castai)
            except MalformedResponse:
                pass

    loop.run(call())


# --- Kubernetes lists and logs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def kube(stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeGateway]:
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "stub",
              "clusters": [{"name": "stub", "cluster": {"server": stub.url}}],
              "contexts": [{"name": "stub", "context": {"cluster": "stub", "user": "stub"}}],
              "users": [{"name": "stub", "user": {"token": "t"}}]}
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(yaml.safe_dump(config))
    with KubeGateway(str(path), timeout=5) as gateway:
        yield gateway


@FUZZ
@given(data=st.data())
def test_a_kubernetes_list_parses_or_fails_as_malformed(data: st.DataObject, stub: Stub, kube: KubeGateway) -> None:
    document = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": STATE.objects["pods"][:2]}
    stub.answer(as_json(data.draw(shaped(document))))
    try:
        kube.list("pods", "castai-agent")
    except MalformedResponse:
        pass


@FUZZ
@given(body=st.binary(max_size=2000))
def test_any_bytes_are_read_as_a_log(body: bytes, stub: Stub, kube: KubeGateway) -> None:
    stub.answer(body, "text/plain")
    text = kube.logs("castai-agent", "castai-agent-0", "agent", tail_lines=50)
    assert isinstance(text, str) and len(text.encode()) >= len(body) // 4
    lines = reading.log_lines(text)
    for pattern in (reading.AUTH_REJECTED, reading.NETWORK_ERROR, reading.PROVIDER_ERROR, reading.FORBIDDEN,
                    reading.HEARTBEAT_ERROR, reading.HEALTHY_ACTIVITY, reading.ERROR_LEVEL):
        reading.matching(lines, pattern)


# --- the tree's reading of pods and events -------------------------------------------------------------

POD_READERS = [reading.name_of, reading.namespaced_name, reading.container_statuses, reading.waiting_reason,
               reading.is_crashlooping, reading.has_running_container, reading.is_ready, reading.restarts,
               reading.last_termination, reading.pod_line, reading.started_at, reading.owner_kind,
               reading.pod_cpu_request, reading.container_env]


@FUZZ
@given(data=st.data())
def test_reading_a_pod_never_raises(data: st.DataObject) -> None:
    crashlooping = build("invalid-api-key").state.objects["pods"]
    pod = data.draw(st.sampled_from(crashlooping + STATE.objects["pods"][:3]).flatmap(shaped).filter(lambda p: isinstance(p, dict)))
    for read in POD_READERS:
        read(pod)
    reading.pods_table("pods", [pod])


@FUZZ
@given(data=st.data())
def test_reading_events_never_raises(data: st.DataObject) -> None:
    events = data.draw(st.lists(st.sampled_from(STATE.objects["events"]).flatmap(shaped).filter(lambda e: isinstance(e, dict)),
                                max_size=3))
    reading.event_rows(events)


@FUZZ
@given(value=ANY_JSON, path=st.sampled_from(["a", "a.b", "nodeDownscaler.emptyNodes.enabled"]))
def test_dig_never_raises(value: Any, path: str) -> None:
    reading.dig(value, path)
    reading.quantity_cores(value)
    reading.parse_time(value)


# --- Helm release Secrets ----------------------------------------------------------------------------

RELEASE_SECRETS = [s for s in STATE.objects["secrets"] if s.get("type") == helm.SECRET_TYPE]


def release_json(secret: dict[str, Any]) -> dict[str, Any]:
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    return json.loads(gzip.decompress(raw))


def wrap(release: Any) -> str:
    """How Helm and the API wrap a release: base64(base64(gzip(JSON)))."""
    return base64.b64encode(base64.b64encode(gzip.compress(json.dumps(release).encode()))).decode()


@FUZZ
@given(data=st.data())
def test_a_release_payload_decodes_or_fails_as_malformed(data: st.DataObject) -> None:
    secret = RELEASE_SECRETS[0]
    payload = data.draw(st.one_of(
        shaped(release_json(secret)).map(wrap),
        st.text(max_size=200),
        st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()),
        st.binary(max_size=200).map(lambda b: base64.b64encode(base64.b64encode(b)).decode()),
    ))
    fuzzed = {**secret, "data": {"release": payload}}
    try:
        helm.decode_release_secret(fuzzed)
    except MalformedResponse:
        pass


@FUZZ
@given(data=st.data())
def test_release_secrets_of_any_shape_give_releases_or_fail_as_malformed(data: st.DataObject) -> None:
    secrets = data.draw(st.lists(st.sampled_from(RELEASE_SECRETS).flatmap(shaped), max_size=4))
    try:
        helm.latest_releases(secrets)
    except MalformedResponse:
        pass


# --- Terraform state ---------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_a_terraform_state_reads_or_fails_as_malformed(data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert LAB.tfstate is not None
    content = data.draw(st.one_of(shaped(LAB.tfstate).map(as_json), st.binary(max_size=300)))
    directory = tmp_path_factory.mktemp("tf")
    (directory / "terraform.tfstate").write_bytes(content)
    try:
        state = terraform.read_state(Path(directory))
    except MalformedResponse:
        return
    if state is not None:
        terraform.drift(state["declared"] or {}, data.draw(shaped(API.policies[CLUSTER_ID])))


@FUZZ
@given(data=st.data())
def test_declared_policies_and_drift_of_any_shape(data: st.DataObject) -> None:
    assert LAB.tfstate is not None
    attributes = LAB.tfstate["resources"][0]["instances"][0]["attributes"]
    fuzzed = data.draw(st.one_of(shaped(attributes), st.fixed_dictionaries({"autoscaler_policies_json": ANY_JSON | st.text()})))
    try:
        declared = terraform.declared_policies(fuzzed if isinstance(fuzzed, dict) else {})
        terraform.drift(declared, data.draw(shaped(API.policies[CLUSTER_ID])))
    except MalformedResponse:
        pass


# --- the Helm repository index and the status page ----------------------------------------------------


@FUZZ
@given(data=st.data())
def test_a_helm_index_parses_or_fails_as_malformed(data: st.DataObject, stub: Stub, loop: asyncio.Runner,
                                                   http: httpx.AsyncClient) -> None:
    body = data.draw(st.one_of(shaped(STATE.helm_index).map(lambda d: yaml.safe_dump(d).encode()), st.binary(max_size=300)))
    stub.answer(body, "application/x-yaml")

    async def call() -> None:
        try:
            await helmrepo.fetch_index(http, stub.url)
        except MalformedResponse:
            pass

    loop.run(call())


@FUZZ
@given(data=st.data())
def test_a_status_page_never_fails_a_diagnosis(data: st.DataObject, stub: Stub, loop: asyncio.Runner,
                                               http: httpx.AsyncClient) -> None:
    assert STATE.status_page is not None
    stub.answer(as_json(data.draw(shaped(STATE.status_page["status"]))))

    async def call() -> None:
        page = await statuspage.fetch_status(http, stub.url)
        assert page.available or page.reason

    loop.run(call())
