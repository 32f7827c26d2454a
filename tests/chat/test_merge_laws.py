"""The merge is a CRDT: associative, commutative, idempotent, and nodes converge.

One chat is generated as a stream of true events; each of three nodes sees a
random subset (random losses) and records each message with its own range around
the true time (as an archiver estimates it) and its own receive time. Any order of
merging the three nodes' batches ends in the same bytes.
"""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from services.archive.chat import format_batch, merge

T0 = 1_765_000_000.0
NODES = ("a.x1.0", "b.x2.0", "c.x3.0")
KINDS = ("PRIVMSG", "JOIN", "ROOMSTATE", "NOTICE", "CLEARCHAT")


@st.composite
def chats(draw):
    """Three nodes' batches of one chat: ``[[message, ...] per node]``."""
    count = draw(st.integers(1, 25))
    events, t = [], T0
    for i in range(count):
        t += draw(st.integers(1, 40)) / 4  # true times a quarter-second apart at least
        kind = draw(st.sampled_from(KINDS))
        # the same fields can recur (a user joining again): such events are kept far apart
        user = draw(st.sampled_from(["u1", "u2"]))
        events.append((i, t, kind, user))
    nodes: list[list[dict]] = [[] for _ in NODES]
    kept = 0
    last_user_time: dict = {}
    for i, t, kind, user in events:
        if kind != "PRIVMSG":
            key = (kind, user)
            if key in last_user_time and t - last_user_time[key] < 200:
                continue  # same-field events overlapping in time: outside the precondition
            last_user_time[key] = t
        kept += 1
        seen = draw(st.lists(st.booleans(), min_size=3, max_size=3))
        if not any(seen):
            seen[draw(st.integers(0, 2))] = True
        for n, node in enumerate(NODES):
            if not seen[n]:
                continue
            received = t + draw(st.integers(1, 400)) / 1000
            message = {
                "command": kind,
                "params": ["#chan"],
                "sender": user,
                "user": user,
                "host": None,
                "receivers": {node: received},
            }
            if kind == "PRIVMSG":
                message["params"] = ["#chan", f"hello {i}"]
                message["tags"] = {"id": f"id-{i}", "tmi-sent-ts": str(int(t * 1000))}
                message["time"], message["time_range"] = int(t * 1000) / 1000, 0
            else:
                message["tags"] = {}
                before = draw(st.integers(0, 40)) / 4 + (45 if kind == "JOIN" else 0)
                after = draw(st.integers(0, 40)) / 4
                message["time"], message["time_range"] = t - before, before + after
            nodes[n].append(message)
    return nodes, kept


def canon(messages):
    return format_batch(messages)


@settings(max_examples=200, deadline=None)
@given(chats())
def test_commutative(chat):
    nodes, _ = chat
    a, b, _ = nodes
    assert canon(merge(a, b)) == canon(merge(b, a))


@settings(max_examples=200, deadline=None)
@given(chats())
def test_associative(chat):
    nodes, _ = chat
    a, b, c = nodes
    assert canon(merge(merge(a, b), c)) == canon(merge(a, merge(b, c)))


@settings(max_examples=200, deadline=None)
@given(chats())
def test_idempotent(chat):
    nodes, _ = chat
    a, b, _ = nodes
    ab = merge(a, b)
    assert canon(merge(ab, ab)) == canon(ab)
    assert canon(merge(ab, a)) == canon(ab)  # a part merged again changes nothing


@settings(max_examples=200, deadline=None)
@given(chats(), st.randoms(use_true_random=False))
def test_every_order_of_merges_converges_and_keeps_every_message_once(chat, rnd):
    nodes, events = chat
    results = set()
    for order in itertools.permutations(range(3)):
        acc: list = []
        for n in order:
            acc = merge(acc, nodes[n])
        results.add(canon(acc))
    # pairwise gossip in a random order, as backfillers would: each node merges a peer's state
    states = [list(n) for n in nodes]
    for _ in range(6):
        i, j = rnd.sample(range(3), 2)
        states[i] = merge(states[i], states[j])
    for i in range(3):
        for j in range(3):
            states[i] = merge(states[i], states[j])
    results |= {canon(s) for s in states}
    assert len(results) == 1
    merged = merge(*nodes)
    assert len(merged) == events  # each true event once
    # and every node's copy of it is among that message's receivers
    assert sum(len(m["receivers"]) for m in merged) == sum(len(n) for n in nodes)
