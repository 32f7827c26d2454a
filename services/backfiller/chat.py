"""Copying a peer's chat batches: the second kind of file a backfiller replicates.

Batches are named by their hash, so what we lack is what the peer lists that is
not here, as for segments. Each is fetched from ``/segments/CH/chat/HOUR/NAME``
(where wubloader's restreamers serve them too), refused past
:data:`~services.archive.chat.MAX_BATCH_BYTES` before it is read, checked against
the hash in its name, parsed, and stored atomically under the same name; the
chat archiver merges it with what is here. A batch the peer has since merged
away (404) is not a failure. Names fetched this run are remembered (at most
:data:`SEEN_CAP`), so a batch merged away here is not fetched again each pass.
"""

import logging
import os

from fastseg import hour_start
from services.archive import chat
from services.backfiller.client import NETWORK_ERRORS
from services.backfiller.fetch import PeerBroken

logger = logging.getLogger(__name__)

__all__ = ["SEEN_CAP", "copy_chat"]

SEEN_CAP = 200_000  # names remembered per peer (a week of minutes is 10,080 per node)


def _fetch(worker, path: str) -> bytes | None:
    """The body at the peer's ``path``, None on 404; ValueError past the size limit."""
    with worker.client.get(path) as resp:
        if resp.length is not None and resp.length > chat.MAX_BATCH_BYTES:
            raise ValueError(f"declares {resp.length} bytes, over {chat.MAX_BATCH_BYTES}")
        body = resp.read(chat.MAX_BATCH_BYTES + 1)
        status = resp.status
    if status == 404:
        return None
    if status != 200:
        raise ValueError(f"answered {status}")
    if len(body) > chat.MAX_BATCH_BYTES:
        raise ValueError(f"sent more than {chat.MAX_BATCH_BYTES} bytes")
    return body


def copy_chat(worker, channel: str, first_hour, latest_hour, stats: dict) -> None:
    """Fetch the chat batches of ``channel`` that the peer lists and this node lacks."""
    hours = worker._get_listing(channel, chat.CHAT)
    if not hours:
        return
    chat_dir = os.path.join(worker.config.base_dir, channel, chat.CHAT)
    seen = worker.chat_seen
    for hour in sorted(set(hours), reverse=True):
        began = hour_start(hour)
        if began is None or (first_hour is not None and began < first_hour):
            continue
        if began > latest_hour:
            worker._refuse("hour")
            continue
        names = worker._get_listing(channel, chat.CHAT, hour) or []
        try:
            local = set(os.listdir(os.path.join(chat_dir, hour)))
        except FileNotFoundError:
            local = set()
        for name in names:
            if name in local or (hour, name) in seen:
                continue
            if chat.parse_batch_name(hour, name) is None:
                worker._refuse("name")
                continue
            if worker.stopping.is_set():
                return
            url = worker.peer.route("segments", channel, chat.CHAT, hour, name)
            try:
                data = _fetch(worker, url[len(worker.peer.url) :])
            except NETWORK_ERRORS as e:
                raise PeerBroken(f"chat batch {hour}/{name}: {type(e).__name__}: {e}") from e
            except ValueError as e:
                worker._refuse("chat")
                logger.debug("peer %r: chat batch %s/%s %s", worker.peer.name, hour, name, e)
                continue
            if len(seen) >= SEEN_CAP:
                seen.clear()
            seen.add((hour, name))
            if data is None:
                continue  # merged away there since the listing: its successor will be listed
            try:
                chat.verify_batch(hour, name, data)
            except chat.BadBatch as e:
                worker._refuse("chat")
                logger.debug("peer %r: chat batch refused: %s", worker.peer.name, e)
                continue
            if chat.store_batch(chat_dir, hour, name, data):
                stats["chat"] = stats.get("chat", 0) + 1
                worker.metrics.chat_batches.labels(worker.peer.name, channel).inc()
