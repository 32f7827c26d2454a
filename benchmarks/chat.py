"""Two nodes' chat for the chat benchmarks, generated once under /var/tmp/fastseg-bench-chat.

Ten messages a second (PRIVMSGs with Twitch's tags, and every 30 s an untimed
NOTICE and a JOIN), as two nodes would record them: each misses about 1% of the
messages at random and one stretch of a minute an hour, and stamps its own
receive times and ranges. ``merge_two`` is what an archiver does once the
backfiller has copied the other node's batches: merge every crowded minute.
"""

import os
import random
import shutil
from pathlib import Path

from services.archive import chat

ROOT = Path(os.environ.get("FASTSEG_BENCH_CHAT", "/var/tmp/fastseg-bench-chat"))
T0 = 1_765_000_800  # an hour start
RATE = 10  # messages per second


def _messages(hours: int, node: int, rng: random.Random):
    """The stream as node ``node`` (0 or 1) recorded it, minute by minute."""
    receiver = f"node{node}.bench.0"
    gap = 600 + 1800 * node  # the minute each hour this node was away
    for minute in range(hours * 60):
        start = T0 + minute * 60
        out = []
        if gap <= (minute * 60) % 3600 < gap + 60:
            yield start, out
            continue
        for k in range(60 * RATE):
            i = minute * 60 * RATE + k
            if rng.random() < 0.01:
                continue
            ts = start + k / RATE
            ts_ms = int(ts * 1000)
            out.append({
                "command": "PRIVMSG", "params": ["#bench", f"message number {i} PogChamp"],
                "sender": f"user{i % 997}", "user": f"user{i % 997}",
                "host": f"user{i % 997}.tmi.twitch.tv",
                "tags": {"badge-info": "", "badges": "subscriber/12", "color": "#1E90FF",
                         "display-name": f"User{i % 997}", "emotes": "", "first-msg": "0",
                         "flags": "", "id": f"0d6c2b3e-{i:012d}", "mod": "0",
                         "returning-chatter": "0", "room-id": "12345", "subscriber": "1",
                         "tmi-sent-ts": str(ts_ms), "turbo": "0", "user-id": str(i % 997),
                         "user-type": ""},
                "receivers": {receiver: ts + 0.05 + rng.random() / 10},
                "time": ts_ms / 1000, "time_range": 0,
            })  # fmt: skip
            if k % 300 == 150:
                before, after = rng.randint(0, 4), rng.randint(0, 4)
                for command, pad in (("NOTICE", 0), ("JOIN", 45)):
                    out.append({
                        "command": command, "params": ["#bench", "slow mode"][: 2 - (pad > 0)],
                        "sender": "tmi.twitch.tv" if not pad else f"viewer{i}",
                        "user": None, "host": None, "tags": {},
                        "receivers": {receiver: ts + 0.1 + rng.random() / 10},
                        "time": ts - before - pad, "time_range": before + after + pad,
                    })  # fmt: skip
        yield start, out


def make(hours: int) -> Path:
    """``ROOT/HOURSh`` with ``a`` and ``b``: each node's ``chan/chat`` batches (made once)."""
    root = ROOT / f"{hours}h"
    done = root / "done"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for node, name in enumerate("ab"):
        chat_dir = str(root / name / "chan" / "chat")
        rng = random.Random(node)
        for _, messages in _messages(hours, node, rng):
            for minute, batch in chat.split_minutes(messages).items():
                chat.write_batch(chat_dir, minute, batch)
    done.touch()
    return root


def together(root: Path, into: Path) -> str:
    """Both nodes' batches linked into ``into/chan/chat`` (as after a backfill); its path."""
    shutil.rmtree(into, ignore_errors=True)
    chat_dir = into / "chan" / "chat"
    for name in "ab":
        source = root / name / "chan" / "chat"
        for hour in os.listdir(source):
            (chat_dir / hour).mkdir(parents=True, exist_ok=True)
            for batch in os.listdir(source / hour):
                target = chat_dir / hour / batch
                if not target.exists():
                    os.link(source / hour / batch, target)
    return str(chat_dir)


def merge_two(chat_dir: str) -> int:
    """Merge every minute with several files, as the archiver does; minutes merged."""
    merged = 0
    for minute in chat.crowded_minutes(chat_dir):
        if len(chat.minute_files(chat_dir, minute)) > 1:
            chat.merge_minute(chat_dir, minute)
            merged += 1
    return merged


def read_files(chat_dir: str, start: float, end: float) -> int:
    """Read and parse every batch ``chat.json`` would read for [start, end): messages read."""
    return sum(len(chat.read_batch(p)) for p in chat.files_for_range(chat_dir, start, end))
