"""The chat archiver's Prometheus metrics."""

import prometheus_client

from services.runtime.metrics import MetricSet


class ChatArchiverMetrics(MetricSet):
    """The chat archiver's metrics (``ChatArchiverMetrics.of(registry)``)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.messages = prometheus_client.Counter(
            "fastseg_chat_archiver_messages_total",
            "Chat messages recorded, by IRC command",
            ["channel", "command"],
            registry=registry,
        )
        self.ignored = prometheus_client.Counter(
            "fastseg_chat_archiver_ignored_total",
            "Messages received but not recorded, by reason (command, no_channel, "
            "other_channel, before_roomstate, batch_full)",
            ["channel", "reason"],
            registry=registry,
        )
        self.refused_lines = prometheus_client.Counter(
            "fastseg_chat_archiver_refused_lines_total",
            "Lines from the chat server that were refused (too_long, not_utf8, not_irc)",
            ["channel", "reason"],
            registry=registry,
        )
        self.connections = prometheus_client.Counter(
            "fastseg_chat_archiver_connections_total",
            "Connections to the chat server, by how they ended "
            "(reconnect, closed, refused, not_irc, error)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.batches = prometheus_client.Counter(
            "fastseg_chat_archiver_batches_total",
            "Batch files written from what this node recorded",
            ["channel"],
            registry=registry,
        )
        self.merges = prometheus_client.Counter(
            "fastseg_chat_archiver_merges_total",
            "Minutes whose several files (recorded here and backfilled) were merged into one",
            ["channel"],
            registry=registry,
        )
        self.bad_files = prometheus_client.Counter(
            "fastseg_chat_archiver_bad_files_total",
            "Batch files that did not parse, hidden as .NAME.bad instead of merged",
            ["channel"],
            registry=registry,
        )
