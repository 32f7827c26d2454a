"""The chat archiver's Prometheus metrics."""

from services.runtime.metrics import MetricSet, counter


class ChatArchiverMetrics(MetricSet):
    """The chat archiver's metrics (``ChatArchiverMetrics.of(registry)``)."""

    messages = counter(
        "fastseg_chat_archiver_messages_total",
        "Chat messages recorded, by IRC command",
        ("channel", "command"),
    )
    ignored = counter(
        "fastseg_chat_archiver_ignored_total",
        "Messages received but not recorded, by reason (command, no_channel, "
        "other_channel, before_roomstate, batch_full)",
        ("channel", "reason"),
    )
    refused_lines = counter(
        "fastseg_chat_archiver_refused_lines_total",
        "Lines from the chat server that were refused (too_long, not_utf8, not_irc)",
        ("channel", "reason"),
    )
    connections = counter(
        "fastseg_chat_archiver_connections_total",
        "Connections to the chat server, by how they ended "
        "(reconnect, closed, refused, not_irc, error)",
        ("channel", "outcome"),
    )
    batches = counter(
        "fastseg_chat_archiver_batches_total",
        "Batch files written from what this node recorded",
        ("channel",),
    )
    merges = counter(
        "fastseg_chat_archiver_merges_total",
        "Minutes whose several files (recorded here and backfilled) were merged into one",
        ("channel",),
    )
    bad_files = counter(
        "fastseg_chat_archiver_bad_files_total",
        "Batch files that did not parse, hidden as .NAME.bad instead of merged",
        ("channel",),
    )
