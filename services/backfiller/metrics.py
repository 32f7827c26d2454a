"""The backfiller's Prometheus metrics, labelled by peer."""

from services.runtime.metrics import MetricSet, counter, gauge, histogram


class BackfillerMetrics(MetricSet):
    """The backfiller's metrics, labelled by peer (``BackfillerMetrics.of(registry)``)."""

    segments_backfilled = counter(
        "fastseg_backfiller_segments_total",
        "Segment files fetched from a peer, verified and stored",
        ("peer", "channel", "quality"),
    )
    bytes_backfilled = counter(
        "fastseg_backfiller_bytes_total",
        "Bytes of segment files fetched from a peer, verified and stored",
        ("peer", "channel", "quality"),
    )
    tombstones_copied = counter(
        "fastseg_backfiller_tombstones_total",
        "Tombstones copied from a peer (each hides a segment here as it does there)",
        ("peer", "channel", "quality"),
    )
    hash_mismatches = counter(
        "fastseg_backfiller_hash_mismatches_total",
        "Segments a peer served whose bytes did not match the hash in their name (discarded)",
        ("peer",),
    )
    errors = counter(
        "fastseg_backfiller_errors_total",
        "Failed requests to a peer (listings and segments), by kind "
        "(unreachable, bad_listing, too_large, hash_mismatch, bad_answer, local_write)",
        ("peer", "kind"),
    )
    passes = counter(
        "fastseg_backfiller_passes_total",
        "Passes over a peer's hours, by outcome (clean, errors: finished with failures, failed)",
        ("peer", "outcome"),
    )
    pass_duration = histogram(
        "fastseg_backfiller_pass_duration_seconds",
        "Wall time of one pass over a peer's hours",
        ("peer",),
        buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    )
    missing = gauge(
        "fastseg_backfiller_missing_segments",
        "Segments found missing in the latest pass over a peer (before fetching)",
        ("peer",),
    )
    duplicate_bytes = counter(
        "fastseg_backfiller_duplicate_bytes_total",
        "Bytes fetched from a peer and verified, but not stored: the segment arrived meanwhile",
        ("peer",),
    )
    chat_batches = counter(
        "fastseg_backfiller_chat_batches_total",
        "Chat batch files fetched from a peer, verified against their name and stored",
        ("peer", "channel"),
    )
    refused = counter(
        "fastseg_backfiller_refused_total",
        "Things a peer listed that were refused, by reason (name, quality, hour, "
        "tombstone_untrusted, tombstone_not_held, tombstone_cap, chat)",
        ("peer", "reason"),
    )
    disk_low = counter(
        "fastseg_backfiller_disk_low_total",
        "Times backfilling stopped because the free space fell below --min-free-mb",
    )
    worker_restarts = counter(
        "fastseg_backfiller_worker_restarts_total",
        "Peer workers that died of an unexpected exception and were started again",
        ("peer",),
    )
    pass_age = gauge(
        "fastseg_backfiller_pass_age_seconds",
        "Seconds since the latest pass over a peer that finished (clean or errors), "
        "or since its worker started if none has",
        ("peer",),
    )
