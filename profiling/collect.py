"""Reading sampled stacks: from nodes' ``/metrics`` pages or from a Prometheus server.

Everything here returns ``{stack: seconds}`` with stacks written
``function(module);...`` root first, the form the renderers take. Every failure
is a :class:`CollectError` whose message is one line fit to show a user.
"""

import json
import logging
import math
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from fastseg.peer_tls import describe_refusal
from profiling.sampler import METRIC_NAME

logger = logging.getLogger(__name__)

SAMPLE_NAME = f"{METRIC_NAME}_total"
DURATION = re.compile(r"(?:\d+(?:ms|[smhdwy]))+")


class CollectError(Exception):
    """A source could not be read, or held no sampler data; the message says which."""


def _check_http_url(url: str, what: str) -> None:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CollectError(f"{what} {url!r} is not an http:// or https:// URL")


def _fetch(url: str, timeout: float, tls: ssl.SSLContext | None = None) -> str:
    """The body of ``url``; an https one checked with ``tls`` (default: the system's CAs)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=tls) as response:
            body: bytes = response.read()
            return body.decode("utf-8", errors="replace")
    except urllib.error.HTTPError as e:
        raise CollectError(f"{url}: HTTP {e.code} {e.reason}") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise CollectError(f"{url}: {describe_refusal(reason)}") from e
        raise CollectError(f"{url}: cannot connect ({reason})") from e


def parse_metrics(text: str, source: str = "metrics") -> dict[str, float]:
    """The sampler's counters in Prometheus text; CollectError if there are none."""
    stacks: dict[str, float] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == SAMPLE_NAME and "stack" in sample.labels:
                    stack = sample.labels["stack"]
                    stacks[stack] = stacks.get(stack, 0.0) + sample.value
    except ValueError as e:
        raise CollectError(f"{source}: not Prometheus text ({e})") from e
    if not stacks:
        raise CollectError(
            f"{source}: no {SAMPLE_NAME} samples; is the stack sampler on there "
            "(--stack-sampler or FASTSEG_STACK_SAMPLER=1)?"
        )
    return stacks


def from_metrics_url(
    url: str, timeout: float = 10.0, tls: ssl.SSLContext | None = None
) -> dict[str, float]:
    """The counters one node serves now (``tls``: how an https node's certificate is checked)."""
    _check_http_url(url, "metrics URL")
    return parse_metrics(_fetch(url, timeout, tls), url)


def from_prometheus(
    base_url: str, range_: str, timeout: float = 30.0, metric: str = SAMPLE_NAME
) -> dict[str, float]:
    """How much each stack's counter grew over the last ``range_`` (e.g. ``1h``), nodes summed."""
    _check_http_url(base_url, "Prometheus URL")
    if not DURATION.fullmatch(range_):
        raise CollectError(
            f"range {range_!r} is not a Prometheus duration such as 90s, 15m, 1h or 1h30m"
        )
    query = f"sum by (stack) (increase({metric}[{range_}]))"
    url = base_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    text = _fetch(url, timeout)
    try:
        answer = json.loads(text)
        if answer.get("status") != "success":
            raise CollectError(
                f"{base_url}: Prometheus answered {answer.get('errorType')}: {answer.get('error')}"
            )
        result = answer["data"]["result"]
        stacks: dict[str, float] = {}
        for series in result:
            stack = series["metric"].get("stack")
            value = float(series["value"][1])
            if stack and math.isfinite(value) and value > 0:
                stacks[stack] = stacks.get(stack, 0.0) + value
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise CollectError(f"{base_url}: not a Prometheus query API answer ({e!r})") from e
    if not stacks:
        raise CollectError(
            f"{base_url}: no {metric} increase over the last {range_}; "
            "is the stack sampler on and scraped?"
        )
    return stacks


def merge(*sources: dict[str, float]) -> dict[str, float]:
    """Sum several ``{stack: seconds}`` maps."""
    merged: dict[str, float] = {}
    for stacks in sources:
        for stack, seconds in stacks.items():
            merged[stack] = merged.get(stack, 0.0) + seconds
    return merged


def keep_matching(stacks: dict[str, float], pattern: "re.Pattern[str]") -> dict[str, float]:
    """Only the stacks in which ``pattern`` is found (re.search on the whole stack)."""
    return {s: v for s, v in stacks.items() if pattern.search(s)}
