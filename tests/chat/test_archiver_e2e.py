"""Two archivers on two nodes record one chat with different gaps; after backfill and
merge both nodes hold identical files with every message once.

Real parts throughout: the chat servers are :class:`tests.chat.ircserver.IrcServer`
threads on 127.0.0.1, the archivers, restreamers and backfillers are subprocesses.
Node A's connection is dropped mid-chat (it reconnects with backoff), node B is
asked to RECONNECT (it opens a second connection before the first ends); each
misses a different stretch of the chat.
"""

import os

import pytest

from services.archive import chat
from tests.chat import ircserver
from tests.chat.ircserver import IrcServer
from tests.servers import ServerProcess, ServiceProcess
from tests.waiting import wait_until

T0 = ircserver.T0_MS  # server times in the past: each minute's batch is written at once
COUNT = 40


def archiver(base, name, irc):
    return ServiceProcess(
        "services.chat_archiver", "--base-dir", str(base), "--channel", "chan", "--name", name,
        "--irc", irc.url, "--batch-lag", "0", "--merge-interval", "0.3", "--idle-timeout", "5",
        "--metrics-port", "0",
    )  # fmt: skip


def batches(base):
    root = os.path.join(base, "chan", "chat")
    found = {}
    for hour in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        for name in sorted(os.listdir(os.path.join(root, hour))):
            with open(os.path.join(root, hour, name), "rb") as f:
                found[f"{hour}/{name}"] = f.read()
    return found


def messages(base):
    return [m for data in batches(base).values() for m in chat.parse_batch(data)]


def send_chat(a: IrcServer, b: IrcServer, index: int) -> None:
    """Message ``index`` (every 2.5 s of server time), to the servers whose node is not in a gap."""
    ts = T0 + index * 2500
    lines = [ircserver.privmsg(index, ts)]
    if index % 10 == 3:
        lines.append(ircserver.join(f"user{index}"))
    if index % 10 == 6:
        lines.append(ircserver.notice(f"slow mode {index}"))
    if index % 10 == 8:
        lines.append(ircserver.clearmsg(index - 1, ts + 100))
        lines.append(ircserver.usernotice(index, ts + 200))
    for server, gap in ((a, range(10, 16)), (b, range(24, 30))):
        if index not in gap:
            for line in lines:
                server.send(line)


@pytest.mark.slow
def test_two_nodes_converge_on_identical_files(tmp_path):
    base_a, base_b = tmp_path / "a", tmp_path / "b"
    base_a.mkdir()
    base_b.mkdir()
    with IrcServer() as irc_a, IrcServer() as irc_b:
        node_a, node_b = archiver(base_a, "node-a", irc_a), archiver(base_b, "node-b", irc_b)
        try:
            irc_a.wait_joined()
            irc_b.wait_joined()
            for i in range(COUNT):
                if i == 10:
                    irc_a.drop()  # A is cut off; it misses 10..15 and reconnects
                if i == 16:
                    irc_a.wait_joined()
                if i == 20:
                    irc_b.reconnect()  # B opens a second connection, keeps the first
                    irc_b.wait_joined(2)
                send_chat(irc_a, irc_b, i)
            wait_until(lambda: len(messages(base_a)) >= 20 and len(messages(base_b)) >= 20,
                       "both archivers wrote batches", timeout=30)  # fmt: skip
            serve_a, serve_b = ServerProcess(base_a), ServerProcess(base_b)
            try:
                for base, peer in ((base_a, serve_b), (base_b, serve_a)):
                    backfill = ServiceProcess(
                        "services.backfiller", "--base-dir", str(base), "--channels", "chan",
                        "--node", peer.url, "--run-once", "--localhost", "me",
                    )  # fmt: skip
                    assert backfill.wait(60) == 0, backfill.log()
                wait_until(lambda: batches(base_a) == batches(base_b) and
                           not chat.crowded_minutes(str(base_a / "chan" / "chat")),
                           "both nodes hold the same merged files", timeout=30)  # fmt: skip
            finally:
                serve_a.stop()
                serve_b.stop()
            assert node_a.metric("fastseg_chat_archiver_connections_total", outcome="closed") >= 1
            assert node_b.metric("fastseg_chat_archiver_connections_total") == 0  # none ended
        finally:
            assert node_a.stop() == 0
            assert node_b.stop() == 0
    final_a, final_b = batches(base_a), batches(base_b)
    assert final_a == final_b
    for name, data in final_a.items():
        hour, base_name = name.split("/")
        chat.verify_batch(hour, base_name, data)  # named by their own hash
    merged = messages(base_a)
    ids = sorted(m["tags"]["id"] for m in merged if m["command"] == "PRIVMSG")
    assert ids == sorted(f"msg-{i}" for i in range(COUNT))  # every message once
    by_id = {m["tags"]["id"]: m for m in merged if m["command"] == "PRIVMSG"}
    seen_by = {i: {r.split(".")[0] for r in by_id[f"msg-{i}"]["receivers"]} for i in range(COUNT)}
    assert seen_by[12] == {"node-b"}
    assert seen_by[26] == {"node-a"}
    assert seen_by[35] == {"node-a", "node-b"}
    assert len([r for r in by_id["msg-35"]["receivers"] if r.startswith("node-b")]) == 2
    for kind, expected in (("JOIN", 4), ("NOTICE", 4), ("CLEARMSG", 4), ("USERNOTICE", 4)):
        assert len([m for m in merged if m["command"] == kind]) == expected, kind
    for log in (node_a.log(), node_b.log()):
        assert " ERROR " not in log
        assert "Traceback" not in log
