"""The backfiller's Prometheus metrics: one process-wide set, labelled by peer."""

import prometheus_client

segments_backfilled = prometheus_client.Counter(
    "fastseg_backfiller_segments_total",
    "Segment files fetched from a peer, verified and stored",
    ["peer", "channel", "quality"],
)
bytes_backfilled = prometheus_client.Counter(
    "fastseg_backfiller_bytes_total",
    "Bytes of segment files fetched from a peer, verified and stored",
    ["peer", "channel", "quality"],
)
tombstones_copied = prometheus_client.Counter(
    "fastseg_backfiller_tombstones_total",
    "Tombstones copied from a peer (each hides a segment here as it does there)",
    ["peer", "channel", "quality"],
)
hash_mismatches = prometheus_client.Counter(
    "fastseg_backfiller_hash_mismatches_total",
    "Segments a peer served whose bytes did not match the hash in their name (discarded)",
    ["peer"],
)
errors = prometheus_client.Counter(
    "fastseg_backfiller_errors_total",
    "Failed requests to a peer (listings and segments), by kind",
    ["peer", "kind"],
)
passes = prometheus_client.Counter(
    "fastseg_backfiller_passes_total",
    "Passes over a peer's hours, by outcome (clean, errors: finished with failures, failed)",
    ["peer", "outcome"],
)
pass_duration = prometheus_client.Histogram(
    "fastseg_backfiller_pass_duration_seconds",
    "Wall time of one pass over a peer's hours",
    ["peer"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
missing = prometheus_client.Gauge(
    "fastseg_backfiller_missing_segments",
    "Segments found missing in the latest pass over a peer (before fetching)",
    ["peer"],
)
duplicate_bytes = prometheus_client.Counter(
    "fastseg_backfiller_duplicate_bytes_total",
    "Bytes fetched from a peer and verified, but not stored: the segment arrived meanwhile",
    ["peer"],
)
