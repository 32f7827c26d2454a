"""Parsing Twitch's IRC lines, and how a recorder times what it records."""

import prometheus_client
import pytest

from services.chat_archiver.archiver import MAX_DELAY, PADDING, Pending, Recorder
from services.chat_archiver.irc import parse_line, parse_url
from services.chat_archiver.metrics import ChatArchiverMetrics
from tests.chat import ircserver


def test_a_tagged_privmsg():
    m = parse_line(ircserver.privmsg(3, 1765000000123, "hi; there \\o/") + "\r\n")
    assert m["command"] == "PRIVMSG"
    assert m["params"] == ["#chan", "hi; there \\o/"]
    assert m["tags"]["id"] == "msg-3"
    assert m["tags"]["tmi-sent-ts"] == "1765000000123"
    assert m["tags"]["badges"] == ""
    assert (m["sender"], m["user"], m["host"]) == ("viewer", "viewer", "viewer.tmi.twitch.tv")


def test_tag_values_are_unescaped():
    m = parse_line(ircserver.usernotice(1, 1))
    assert m["tags"]["system-msg"] == "subber subscribed"
    m = parse_line("@a=x\\:y\\\\z\\n;b;c= :tmi.twitch.tv NOTICE #chan :t")
    assert m["tags"] == {"a": "x;y\\z\n", "b": "", "c": ""}


def test_server_prefix_and_no_trailing():
    m = parse_line(":tmi.twitch.tv ROOMSTATE #chan")
    assert (m["sender"], m["user"], m["host"], m["params"]) == (
        "tmi.twitch.tv",
        None,
        None,
        ["#chan"],
    )
    assert parse_line("PING :tmi.twitch.tv") == {
        "command": "PING", "params": ["tmi.twitch.tv"], "tags": {},
        "sender": None, "user": None, "host": None,
    }  # fmt: skip


@pytest.mark.parametrize("line", ["", "   ", "@only-tags", ":prefix-only", "!!! ???", "P1NG x"])
def test_garbage_is_not_a_message(line):
    assert parse_line(line) is None


def test_urls():
    assert parse_url("ircs://irc.chat.twitch.tv:6697") == ("irc.chat.twitch.tv", 6697, True)
    assert parse_url("irc://127.0.0.1:7000") == ("127.0.0.1", 7000, False)
    assert parse_url("irc://localhost") == ("localhost", 6667, False)
    with pytest.raises(ValueError, match="irc://HOST:PORT"):
        parse_url("http://example.com")


def recorder():
    metrics = ChatArchiverMetrics.of(prometheus_client.CollectorRegistry())
    r = Recorder("n.x.0", "chan", Pending(), metrics)
    assert r.handle(parse_line(":tmi.twitch.tv ROOMSTATE #chan"), 100.0) is None  # the gate
    return r


def test_timestamped_messages_have_an_exact_time():
    r = recorder()
    rec = r.handle(parse_line(ircserver.privmsg(1, 1765000000123)), 1765000000.5)
    assert (rec["time"], rec["time_range"]) == (1765000000.123, 0)
    assert rec["receivers"] == {"n.x.0": 1765000000.5}


def test_untimed_messages_sit_between_their_timestamped_neighbours():
    r = recorder()
    r.handle(parse_line(ircserver.privmsg(1, 1765000000000)), 1765000000.5)
    notice = r.handle(parse_line(ircserver.notice("slow mode")), 1765000002.5)
    # estimate: server time 1765000000 + 2 s since; padded, but not before the last timestamp
    assert notice["time"] == 1765000000.0
    assert notice["time_range"] == 2 * PADDING
    r.handle(parse_line(ircserver.privmsg(2, 1765000003000)), 1765000003.5)
    assert notice["time_range"] == 3.0  # the next timestamp closes the range


def test_joins_are_padded_back_and_unknown_server_time_is_wide():
    r = recorder()
    joined = r.handle(parse_line(ircserver.join("someone")), 1765000000.0)
    assert joined["time"] == 1765000000.0 - 2 * PADDING - MAX_DELAY
    assert joined["time_range"] == 3 * PADDING + MAX_DELAY


def test_ignored_before_roomstate_and_other_channels():
    metrics = ChatArchiverMetrics.of(prometheus_client.CollectorRegistry())
    r = Recorder("n.x.0", "chan", Pending(), metrics)
    assert r.handle(parse_line(ircserver.privmsg(1, 1)), 1.0) is None
    r.handle(parse_line(":tmi.twitch.tv ROOMSTATE #chan"), 1.0)
    assert r.handle(parse_line(":x!x@x PRIVMSG #other :hi"), 1.0) is None
    assert r.handle(parse_line(":tmi.twitch.tv 001 me :hi"), 1.0) is None
    assert r.handle(parse_line(":x!x@x PRIVMSG"), 1.0) is None
    assert metrics.ignored.labels("chan", "before_roomstate")._value.get() == 2
    assert metrics.ignored.labels("chan", "other_channel")._value.get() == 1
    assert metrics.ignored.labels("chan", "command")._value.get() == 1
    assert metrics.ignored.labels("chan", "no_channel")._value.get() == 1
