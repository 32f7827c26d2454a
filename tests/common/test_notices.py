"""Notices posted to a real local webhook server: bodies, retries while it is down, bounds."""

import gevent
import prometheus_client
import pytest

from services.runtime.notices import Notice, Notifier, NotifyMetrics, body, format_for
from tests.waiting import wait_until
from tests.webhook import Webhook


@pytest.fixture
def webhook():
    server = Webhook()
    yield server
    server.stop()


def notifier(urls, **kwargs):
    metrics = NotifyMetrics.of(prometheus_client.CollectorRegistry())
    kwargs.setdefault("retry", (0.05, 0.2))
    return Notifier(urls, "cutter", "node-a", metrics=metrics, **kwargs).start()


def count(n: Notifier, name: str, **labels) -> float:
    return n.metrics.registry.get_sample_value(name, {"service": "cutter", **labels}) or 0.0


def until(predicate, what):
    return wait_until(predicate, what, timeout=30, sleep=gevent.sleep)


@pytest.mark.parametrize(("url", "fmt"), [
    ("https://discord.com/api/webhooks/1/tok", "discord"),
    ("https://discordapp.com/api/webhooks/1/tok", "discord"),
    ("https://team.zulipchat.com/api/v1/external/slack_incoming?api_key=k&stream=s", "zulip"),
    ("https://hooks.example/any", "generic"),
    ("https://discord.com/other", "generic"),
    ("http://127.0.0.1:5000/api/webhooks/1/tok", "discord"),  # a stand-in, by its path
])  # fmt: skip
def test_the_body_follows_the_url(url, fmt):
    assert format_for(url) == fmt
    assert format_for(url, "generic") == "generic"  # --notify-format overrides


def test_bodies_of_each_format():
    notice = Notice("clip_done", "Clip done: T http://x/1", {"event": "7"})
    generic = body(notice, "generic", "cutter", "node-a")
    assert generic == {"kind": "clip_done", "text": "Clip done: T http://x/1", "service": "cutter",
                       "node": "node-a", "time": notice.time, "fields": {"event": "7"}}  # fmt: skip
    assert body(notice, "discord", "cutter", "n")["content"] == notice.text
    assert body(notice, "zulip", "cutter", "n") == {"text": notice.text}
    long = Notice("event_failed", "x" * 5000)
    assert len(body(long, "discord", "cutter", "n")["content"]) == 2000


def test_every_format_is_taken_by_its_server(webhook):
    urls = [f"{webhook.url}/api/webhooks/1/tok", f"{webhook.url}/api/v1/external/slack_incoming",
            f"{webhook.url}/hook"]  # fmt: skip
    n = notifier(urls)
    n.notify("clip_done", "Clip done: First http://c.example/1.ts", title="First")
    until(lambda: len(webhook.received) == 3, "three posts taken")
    by_path = dict(webhook.received)
    assert by_path["/api/webhooks/1/tok"]["content"] == "Clip done: First http://c.example/1.ts"
    assert by_path["/api/v1/external/slack_incoming"] == {"text": by_path["/hook"]["text"]}
    assert by_path["/hook"]["fields"] == {"title": "First"}
    assert count(n, "fastseg_notify_sent_total") == 3
    n.close()


def test_notices_wait_while_the_webhook_is_down_and_arrive_when_it_is_back(webhook):
    n = notifier([f"{webhook.url}/hook"], queue_size=3)
    webhook.stop()
    for i in range(5):  # two more than the queue holds: the two oldest are dropped
        n.notify("event_failed", f"notice {i}")
    until(lambda: count(n, "fastseg_notify_failed_total") >= 2, "posts failing")
    assert count(n, "fastseg_notify_dropped_total", reason="full") == 2
    assert webhook.received == []
    webhook.start()
    until(lambda: len(webhook.received) == 3, "the queued notices delivered")
    assert [b["text"] for b in webhook.bodies()] == ["notice 2", "notice 3", "notice 4"]
    assert count(n, "fastseg_notify_sent_total") == 3
    n.notify("event_failed", "notice 5")  # and new ones go straight through
    until(lambda: len(webhook.received) == 4, "a new notice delivered")
    n.close()


def test_a_server_error_is_retried_and_a_refusal_is_not(webhook):
    n = notifier([f"{webhook.url}/hook", f"{webhook.url}/api/webhooks/1/tok"])
    webhook.status = 503
    n.notify("clip_done", "retried")
    until(lambda: webhook.attempts >= 4, "retries")
    webhook.status = None
    until(lambda: len(webhook.received) == 2, "delivered once the server answers")
    # Discord refuses an empty message (400): dropped there, and the next one goes.
    before = len(webhook.received)
    n.notify("clip_done", "")
    n.notify("clip_done", "after")
    until(lambda: len(webhook.received) == before + 3, "the next notices")
    texts = sorted((p, b.get("text", b.get("content"))) for p, b in webhook.received[before:])
    assert texts == [("/api/webhooks/1/tok", "after"), ("/hook", ""), ("/hook", "after")]
    assert count(n, "fastseg_notify_dropped_total", reason="refused") == 1
    n.close()


def test_the_same_notice_again_too_soon_is_not_sent(webhook):
    n = notifier([f"{webhook.url}/hook"])
    for _ in range(3):
        n.notify("event_failed", "event 7 failed", key="failed 7", every=600)
    n.notify("event_failed", "event 8 failed", key="failed 8", every=600)
    until(lambda: len(webhook.received) == 2, "one notice per key")
    assert count(n, "fastseg_notify_dropped_total", reason="repeat") == 2
    n.close()


def test_without_urls_nothing_is_queued_or_counted():
    n = notifier([])
    n.notify("clip_done", "nobody listens")
    assert n.hooks == []
    assert count(n, "fastseg_notify_sent_total") == 0
    n.close()


def test_a_bad_url_is_refused_with_what_to_give():
    import argparse  # noqa: PLC0415

    from services.runtime.notices import webhook_url  # noqa: PLC0415

    with pytest.raises(argparse.ArgumentTypeError, match="webhook's http:// or https:// URL"):
        webhook_url("discord.com/api/webhooks/1")
    assert webhook_url("https://h.example/x") == "https://h.example/x"
