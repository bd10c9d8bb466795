"""CastaiClient against the lab's CAST AI API over real HTTP: what it reads, and how
every failure a person can meet turns into one error of the taxonomy."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

from castui.clients.castai import CastaiClient
from castui.clients.errors import (
    ApiKeyMissing,
    CastuiError,
    ConnectionFailed,
    Forbidden,
    MalformedResponse,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    Unauthorized,
)
from castui.lab.server import LabServer
from castui.lab.state import Fault, LabState

from .lab_data import (
    CLUSTER_ID,
    HIDDEN_ID,
    KEY,
    NO_ACCESS_KEY,
    READONLY_KEY,
    REVOKED_KEY,
    SCOPED_KEY,
    WORKLOADS,
    requests_to,
)

CLUSTERS_PATH = "/v1/kubernetes/external-clusters"


def fault(lab: LabServer, **kwargs: Any) -> None:
    with lab.state.lock:
        lab.state.faults.append(Fault(**kwargs))


# -- reading --


async def test_reads_clusters_and_keeps_fields_it_does_not_know(lab: LabServer) -> None:
    async with CastaiClient(lab.url, KEY) as client:
        clusters = await client.list_clusters()
        one = await client.get_cluster(CLUSTER_ID)
    assert [c.id for c in clusters] == [CLUSTER_ID, HIDDEN_ID]
    assert one.agent_status == "online"
    assert one.region is not None and one.region.display_name == "Europe (Frankfurt)"
    assert one.agent_snapshot_received_at is not None and one.agent_snapshot_received_at.year == 2024
    assert one.provider_cluster_name == "prod-eks"
    assert one.model_dump(by_alias=True)["someFutureField"] == {"nested": True}


async def test_a_key_scoped_to_one_cluster_sees_only_that_cluster(lab: LabServer) -> None:
    async with CastaiClient(lab.url, SCOPED_KEY) as client:
        assert [c.id for c in await client.list_clusters()] == [CLUSTER_ID]
        with pytest.raises(Forbidden, match="403 Forbidden"):
            await client.get_cluster(HIDDEN_ID)


async def test_policies_come_as_a_model_and_as_the_raw_json(lab: LabServer) -> None:
    async with CastaiClient(lab.url, KEY) as client:
        policies, raw = await client.get_policies(CLUSTER_ID)
    assert policies.node_downscaler is not None and policies.node_downscaler.evictor is not None
    assert policies.node_downscaler.evictor.cycle_interval == "60s"
    assert policies.cluster_limits is not None and policies.cluster_limits.cpu is not None
    assert policies.cluster_limits.cpu.max_cores == 20
    assert (
        policies.spot_instances is not None
        and policies.spot_instances.spot_diversity_price_increase_limit_percent is None
    )
    assert raw["nodeDownscaler"]["emptyNodes"]["delaySeconds"] == 300


async def test_a_cluster_without_policies_is_not_found(lab: LabServer) -> None:
    async with CastaiClient(lab.url, KEY) as client:
        with pytest.raises(NotFound, match=f"read autoscaler policies of cluster {HIDDEN_ID}"):
            await client.get_policies(HIDDEN_ID)


async def test_put_policies_replaces_them_and_lets_the_lab_react(lab: LabServer) -> None:
    writes: list[tuple[str, str | None, str]] = []

    def hook(state: LabState, resource: str, namespace: str | None, name: str, obj: dict[str, Any] | None) -> None:
        writes.append((resource, namespace, name))

    lab.state.on_write.append(hook)
    async with CastaiClient(lab.url, KEY) as client:
        _, raw = await client.get_policies(CLUSTER_ID)
        raw["nodeDownscaler"]["evictor"]["aggressiveMode"] = True
        answer = await client.put_policies(CLUSTER_ID, raw)
        policies, _ = await client.get_policies(CLUSTER_ID)
    assert answer["nodeDownscaler"]["evictor"]["aggressiveMode"] is True
    assert (
        policies.node_downscaler
        and policies.node_downscaler.evictor
        and policies.node_downscaler.evictor.aggressive_mode
    )
    assert writes == [("castai.policies", None, CLUSTER_ID)]


async def test_a_read_only_key_cannot_put_policies(lab: LabServer) -> None:
    async with CastaiClient(lab.url, READONLY_KEY) as client:
        with pytest.raises(Forbidden, match="update autoscaler policies"):
            await client.put_policies(CLUSTER_ID, {"enabled": False})
    assert lab.state.castai.policies[CLUSTER_ID]["enabled"] is True


async def test_node_templates_carry_their_stats(lab: LabServer) -> None:
    async with CastaiClient(lab.url, KEY) as client:
        templates = await client.list_node_templates(CLUSTER_ID)
    default, gpu = templates
    assert default.is_default and default.constraints is not None and default.constraints.use_spot_fallbacks
    assert default.constraints.architectures == ["amd64"]
    assert gpu.custom_taints is not None and gpu.custom_taints[0].effect == "NoSchedule"
    assert gpu.stats is not None and gpu.stats.count_on_demand == 2


async def test_workloads_follow_the_cursor_to_the_last_page(lab: LabServer) -> None:
    async with CastaiClient(lab.url, KEY) as client:
        workloads = await client.list_workloads(CLUSTER_ID)
    assert len(workloads) == WORKLOADS
    assert len({w.id for w in workloads}) == WORKLOADS
    assert requests_to(lab, "/workloads") == 3  # 100 + 100 + 50
    first = workloads[0]
    assert first.recommendation is not None and first.recommendation.confidence == 0.4
    assert first.recommendation_status is not None and first.recommendation_status.low_confidence is True


async def test_auth_tokens_never_keep_the_token_value(lab: LabServer) -> None:
    async with CastaiClient(lab.url, KEY) as client:
        (token,) = await client.list_auth_tokens()
    assert token.readonly is True and token.token_prefix == "a1b2"
    assert "full-token-value-never-kept" not in repr(token)
    assert "full-token-value-never-kept" not in str(token.model_dump())


async def test_test_key_reports_how_the_api_treats_another_key(lab: LabServer, closed_port_url: str) -> None:
    async with CastaiClient(lab.url, None) as client:
        assert await client.test_key(KEY) == 200
        assert await client.test_key(REVOKED_KEY) == 401
        assert await client.test_key(NO_ACCESS_KEY) == 403
        assert await client.test_key("not-a-key-the-api-knows") == 401
    async with CastaiClient(closed_port_url, None) as client:
        with pytest.raises(ConnectionFailed):
            await client.test_key(KEY)


# -- the error taxonomy --


async def test_without_a_key_nothing_is_sent(lab: LabServer) -> None:
    async with CastaiClient(lab.url, None) as client:
        assert "key=missing" in repr(client)
        for call in (client.list_clusters(), client.get_policies(CLUSTER_ID), client.list_auth_tokens()):
            with pytest.raises(ApiKeyMissing):
                await call
    assert lab.state.request_log == []


async def test_a_revoked_key_is_unauthorized(lab: LabServer) -> None:
    async with CastaiClient(lab.url, REVOKED_KEY) as client:
        with pytest.raises(Unauthorized) as caught:
            await client.list_clusters()
    assert str(caught.value).startswith(
        f"list CAST AI clusters at 127.0.0.1:{lab.url.rsplit(':', 1)[1]}{CLUSTERS_PATH}: 401"
    )


async def test_a_key_without_access_is_forbidden(lab: LabServer) -> None:
    async with CastaiClient(lab.url, NO_ACCESS_KEY) as client:
        with pytest.raises(Forbidden):
            await client.list_clusters()


async def test_an_unknown_cluster_is_not_found(lab: LabServer) -> None:
    async with CastaiClient(lab.url, KEY) as client:
        with pytest.raises(NotFound, match="get CAST AI cluster nope"):
            await client.get_cluster("nope")


async def test_rate_limiting_is_retried_after_the_servers_wait(lab: LabServer) -> None:
    fault(lab, kind="status", status=429, retry_after="0", path=CLUSTERS_PATH, times=1)
    async with CastaiClient(lab.url, KEY) as client:
        assert len(await client.list_clusters()) == 2
    assert requests_to(lab, CLUSTERS_PATH) == 2


async def test_rate_limiting_that_persists_is_reported_with_the_wait(lab: LabServer) -> None:
    fault(lab, kind="status", status=429, retry_after="0", path=CLUSTERS_PATH)
    async with CastaiClient(lab.url, KEY) as client:
        with pytest.raises(RateLimited, match="asked to wait 0s"):
            await client.list_clusters()
    assert requests_to(lab, CLUSTERS_PATH) == 3  # the first try and two retries


async def test_a_wait_longer_than_the_timeout_budget_is_not_waited_for(lab: LabServer) -> None:
    fault(lab, kind="status", status=429, retry_after="3600", path=CLUSTERS_PATH)
    async with CastaiClient(lab.url, KEY, timeout=1.0) as client:
        with pytest.raises(RateLimited, match="3600s"):
            await client.list_clusters()
    assert requests_to(lab, CLUSTERS_PATH) == 1


async def test_a_gateway_error_is_retried(lab: LabServer) -> None:
    fault(lab, kind="status", status=503, path=CLUSTERS_PATH, times=1)
    async with CastaiClient(lab.url, KEY) as client:
        assert len(await client.list_clusters()) == 2


async def test_a_server_error_is_reported_at_once(lab: LabServer) -> None:
    fault(lab, kind="status", status=500, path=CLUSTERS_PATH)
    async with CastaiClient(lab.url, KEY) as client:
        with pytest.raises(ServerError, match="server error 500: injected fault"):
            await client.list_clusters()
    assert requests_to(lab, CLUSTERS_PATH) == 1


async def test_a_hanging_api_times_out(lab: LabServer) -> None:
    fault(lab, kind="hang", path=CLUSTERS_PATH)
    async with CastaiClient(lab.url, KEY, timeout=0.3) as client:
        with pytest.raises(RequestTimeout, match="no answer within 0.3s"):
            await client.list_clusters()


async def test_a_closed_port_is_a_refused_connection(closed_port_url: str) -> None:
    async with CastaiClient(closed_port_url, KEY) as client:
        with pytest.raises(ConnectionFailed, match="connection refused"):
            await client.list_clusters()


@pytest.mark.parametrize("kind", ["invalid-json", "truncated-json"])
async def test_broken_json_is_a_malformed_response(lab: LabServer, kind: str) -> None:
    fault(lab, kind=kind, path=CLUSTERS_PATH)
    async with CastaiClient(lab.url, KEY) as client:
        with pytest.raises(MalformedResponse, match="list CAST AI clusters .*invalid JSON"):
            await client.list_clusters()


async def test_a_reset_mid_body_is_a_closed_connection(lab: LabServer) -> None:
    fault(lab, kind="reset", path=CLUSTERS_PATH)
    async with CastaiClient(lab.url, KEY) as client:
        with pytest.raises(ConnectionFailed, match="connection closed mid-response"):
            await client.list_clusters()


async def test_an_unexpected_shape_names_the_endpoint_and_field(lab: LabServer) -> None:
    lab.state.castai.clusters[0]["agentSnapshotReceivedAt"] = "last tuesday"
    async with CastaiClient(lab.url, KEY) as client:
        with pytest.raises(MalformedResponse) as caught:
            await client.get_cluster(CLUSTER_ID)
    message = str(caught.value)
    assert f"get CAST AI cluster {CLUSTER_ID}" in message and "agentSnapshotReceivedAt" in message
    assert "last tuesday" not in message


async def test_a_bare_host_gets_https_and_a_trailing_slash_is_dropped() -> None:
    async with CastaiClient("api.eu.cast.ai/", None) as client:
        assert client.api_url == "https://api.eu.cast.ai"


# -- the key never leaks --

CANARY = "canary-5e1f0c2b-castui-must-never-print-this"


async def test_the_api_key_never_appears_in_repr_errors_or_logs(
    lab: LabServer, closed_port_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lab.state.castai.api_keys[CANARY] = {"status": 200, "clusters": [CLUSTER_ID]}
    errors: list[CastuiError] = []

    async def collect(client: CastaiClient, call: str, *args: Any) -> None:
        try:
            await getattr(client, call)(*args)
        except CastuiError as exc:
            errors.append(exc)

    async with CastaiClient(lab.url, CANARY, timeout=0.3) as client:
        assert CANARY not in repr(client) and CANARY not in str(client)
        assert "key=set" in repr(client)
        await collect(client, "get_cluster", HIDDEN_ID)  # 403
        await collect(client, "get_cluster", "nope")  # 404
        for kind, extra in [("status", {"status": 500}), ("hang", {}), ("reset", {}), ("invalid-json", {})]:
            fault(lab, kind=kind, path=CLUSTERS_PATH, times=1, **extra)
            await collect(client, "list_clusters")
        await collect(client, "test_key", CANARY + "-other")
    lab.state.castai.api_keys.pop(CANARY)
    async with CastaiClient(lab.url, CANARY) as client:
        await collect(client, "list_clusters")  # 401
    async with CastaiClient(closed_port_url, CANARY) as client:
        await collect(client, "list_clusters")
        await collect(client, "test_key", CANARY)
    async with CastaiClient(lab.url, f"{CANARY}\nX-Injected: 1") as client:  # not a valid header value
        await collect(client, "list_clusters")

    kinds = {type(e).__name__ for e in errors}
    assert {
        "Forbidden",
        "NotFound",
        "ServerError",
        "RequestTimeout",
        "ConnectionFailed",
        "MalformedResponse",
        "Unauthorized",
    } <= kinds
    for error in errors:
        printed = "".join(traceback.format_exception(error))
        assert CANARY not in str(error) and CANARY not in repr(error) and CANARY not in printed
    assert caplog.records, "the HTTP stack logged nothing at DEBUG: this check would prove nothing"
    assert CANARY not in caplog.text


async def test_an_untrusted_certificate_is_a_failed_tls_handshake(lab: LabServer) -> None:
    async with CastaiClient(lab.https_url, KEY) as client:
        with pytest.raises(ConnectionFailed, match="TLS handshake failed"):
            await client.list_clusters()
