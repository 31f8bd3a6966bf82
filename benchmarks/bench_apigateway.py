"""What the API Gateway data plane adds to a call: through the gateway versus a direct Invoke.

    python benchmarks/bench_apigateway.py [--calls N]

One embedded engine, one warm trivial function (it returns a fixed proxy response), and in the
same run, interleaved in a shuffled order each round so that drift hits every path alike:

- a direct Invoke over HTTP (POST /2015-03-31/functions/{name}/invocations, same HTTP client),
- a GET through a REST API stage (AWS_PROXY integration),
- a GET through an HTTP API $default stage (payload format 2.0),
- a direct Invoke with boto3 (for reference: what most callers pay).

Prints median and p99 per path, the gateway's added median (target: under 3 ms), and the time
spent inside the data plane itself (its access record's latency less the Lambda round trip),
which the machine's noise hides less. Not a test.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import boto3
import requests

from harness.engine import Engine

TRIVIAL = (
    "def handler(event, context):\n"
    '    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}\n'
)
TARGET_MS = 3.0


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _session() -> Any:
    """boto3 with dummy credentials: every client gets the engine's endpoint explicitly."""
    return boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )


def _deploy(engine: Engine) -> tuple[str, str, str]:
    """The function, a REST API and an HTTP API in front of it; returns the three call URLs."""
    session = _session()
    suffix = uuid.uuid4().hex[:8]
    role = session.client("iam", endpoint_url=engine.url).create_role(
        RoleName=f"bench-{suffix}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    function = session.client("lambda", endpoint_url=engine.url).create_function(
        FunctionName=f"bench-{suffix}",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip(TRIVIAL)},
    )
    arn = function["FunctionArn"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"

    rest = session.client("apigateway", endpoint_url=engine.url)
    api_id = rest.create_rest_api(name=f"bench-{suffix}")["id"]
    root = rest.get_resources(restApiId=api_id)["items"][0]["id"]
    resource = rest.create_resource(restApiId=api_id, parentId=root, pathPart="ping")["id"]
    rest.put_method(
        restApiId=api_id, resourceId=resource, httpMethod="GET", authorizationType="NONE"
    )
    rest.put_integration(
        restApiId=api_id,
        resourceId=resource,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
    )
    rest.create_deployment(restApiId=api_id, stageName="bench")

    http = session.client("apigatewayv2", endpoint_url=engine.url)
    http_id = http.create_api(Name=f"bench-{suffix}", ProtocolType="HTTP")["ApiId"]
    integration = http.create_integration(
        ApiId=http_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    http.create_route(ApiId=http_id, RouteKey="GET /ping", Target=f"integrations/{integration}")
    http.create_stage(ApiId=http_id, StageName="$default", AutoDeploy=True)

    return (
        f"{engine.url}/2015-03-31/functions/{function['FunctionName']}/invocations",
        f"{engine.url}/restapis/{api_id}/bench/_user_request_/ping",
        f"{engine.url}/_aws/execute-api/{http_id}/ping",
    )


def _time_invocations(engine: Engine) -> dict[str, float]:
    """Time each runtime.invoke the data plane makes, by the API request id in its event."""
    timed: dict[str, float] = {}
    real_invoke = engine.runtime.invoke

    def timed_invoke(function: str, payload: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_invoke(function, payload, **kwargs)
        finally:
            if isinstance(payload, dict) and "requestContext" in payload:
                request_id = payload["requestContext"]["requestId"]
                timed[request_id] = (time.perf_counter() - started) * 1000

    engine.runtime.invoke = timed_invoke  # type: ignore[method-assign]
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls per path (default 1000)")
    args = parser.parse_args()

    with Engine(port=0) as engine:
        invoke_url, rest_url, http_url = _deploy(engine)
        invoke_ms = _time_invocations(engine)
        session = requests.Session()
        lambda_client = _session().client("lambda", endpoint_url=engine.url)
        function_name = invoke_url.split("/functions/")[1].split("/")[0]

        def direct_http() -> None:
            response = session.post(invoke_url, data=b"{}")
            assert response.status_code == 200, response.text

        def rest_api() -> None:
            response = session.get(rest_url)
            assert response.status_code == 200 and response.text == "ok", response.text

        def http_api() -> None:
            response = session.get(http_url)
            assert response.status_code == 200 and response.text == "ok", response.text

        def direct_boto3() -> None:
            lambda_client.invoke(FunctionName=function_name, Payload=b"{}")

        paths: dict[str, Callable[[], None]] = {
            "direct Invoke (HTTP)": direct_http,
            "REST API -> Lambda": rest_api,
            "HTTP API -> Lambda": http_api,
            "direct Invoke (boto3)": direct_boto3,
        }
        for call in paths.values():  # cold start and connection set-up stay out of the figures
            for _ in range(20):
                call()
        timings: dict[str, list[float]] = {name: [] for name in paths}
        order = list(paths.items())
        for _ in range(args.calls):
            # a fresh order each round: no path always follows the same neighbour
            random.shuffle(order)
            for name, call in order:
                started = time.perf_counter()
                call()
                timings[name].append((time.perf_counter() - started) * 1000)
        # the data plane's own time: its access record's latency less the Lambda round trip
        own_ms: dict[str, list[float]] = {"REST API -> Lambda": [], "HTTP API -> Lambda": []}
        rest_id = rest_url.split("/restapis/")[1].split("/")[0]
        for record in engine.accesses.snapshot():
            if record.request_id in invoke_ms:
                name = "REST API -> Lambda" if record.api_id == rest_id else "HTTP API -> Lambda"
                own_ms[name].append(record.latency_ms - invoke_ms[record.request_id])

    print(f"{args.calls} warm calls per path, one engine, interleaved\n")
    print(f"{'path':<26} {'median ms':>10} {'p99 ms':>10}")
    for name, values in timings.items():
        print(f"{name:<26} {statistics.median(values):>10.3f} {_percentile(values, 0.99):>10.3f}")
    base = statistics.median(timings["direct Invoke (HTTP)"])
    print()
    for name in ("REST API -> Lambda", "HTTP API -> Lambda"):
        added = statistics.median(timings[name]) - base
        verdict = "ok" if added < TARGET_MS else "MISSED"
        print(
            f"gateway adds at the median, {name:<20} {added:>7.3f} ms  (< {TARGET_MS} ms) {verdict}"
        )
    print("\ntime inside the data plane, Lambda round trip excluded (less noisy):")
    for name, values in own_ms.items():
        print(
            f"  {name:<24} median {statistics.median(values):.3f} ms, "
            f"p99 {_percentile(values, 0.99):.3f} ms"
        )


if __name__ == "__main__":
    main()
