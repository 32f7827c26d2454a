"""The backfiller's Prometheus metrics, labelled by peer."""

import prometheus_client

from services.runtime.metrics import MetricSet


class BackfillerMetrics(MetricSet):
    """The backfiller's metrics, labelled by peer (``BackfillerMetrics.of(registry)``)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.segments_backfilled = prometheus_client.Counter(
            "fastseg_backfiller_segments_total",
            "Segment files fetched from a peer, verified and stored",
            ["peer", "channel", "quality"],
            registry=registry,
        )
        self.bytes_backfilled = prometheus_client.Counter(
            "fastseg_backfiller_bytes_total",
            "Bytes of segment files fetched from a peer, verified and stored",
            ["peer", "channel", "quality"],
            registry=registry,
        )
        self.tombstones_copied = prometheus_client.Counter(
            "fastseg_backfiller_tombstones_total",
            "Tombstones copied from a peer (each hides a segment here as it does there)",
            ["peer", "channel", "quality"],
            registry=registry,
        )
        self.hash_mismatches = prometheus_client.Counter(
            "fastseg_backfiller_hash_mismatches_total",
            "Segments a peer served whose bytes did not match the hash in their name (discarded)",
            ["peer"],
            registry=registry,
        )
        self.errors = prometheus_client.Counter(
            "fastseg_backfiller_errors_total",
            "Failed requests to a peer (listings and segments), by kind "
            "(unreachable, bad_listing, too_large, hash_mismatch, bad_answer, local_write)",
            ["peer", "kind"],
            registry=registry,
        )
        self.passes = prometheus_client.Counter(
            "fastseg_backfiller_passes_total",
            "Passes over a peer's hours, by outcome "
            "(clean, errors: finished with failures, failed)",
            ["peer", "outcome"],
            registry=registry,
        )
        self.pass_duration = prometheus_client.Histogram(
            "fastseg_backfiller_pass_duration_seconds",
            "Wall time of one pass over a peer's hours",
            ["peer"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
            registry=registry,
        )
        self.missing = prometheus_client.Gauge(
            "fastseg_backfiller_missing_segments",
            "Segments found missing in the latest pass over a peer (before fetching)",
            ["peer"],
            registry=registry,
        )
        self.duplicate_bytes = prometheus_client.Counter(
            "fastseg_backfiller_duplicate_bytes_total",
            "Bytes fetched from a peer and verified, but not stored: the segment arrived meanwhile",
            ["peer"],
            registry=registry,
        )
        self.chat_batches = prometheus_client.Counter(
            "fastseg_backfiller_chat_batches_total",
            "Chat batch files fetched from a peer, verified against their name and stored",
            ["peer", "channel"],
            registry=registry,
        )
        self.refused = prometheus_client.Counter(
            "fastseg_backfiller_refused_total",
            "Things a peer listed that were refused, by reason (name, quality, hour, "
            "tombstone_untrusted, tombstone_not_held, tombstone_cap, chat)",
            ["peer", "reason"],
            registry=registry,
        )
        self.disk_low = prometheus_client.Counter(
            "fastseg_backfiller_disk_low_total",
            "Times backfilling stopped because the free space fell below --min-free-mb",
            registry=registry,
        )
        self.worker_restarts = prometheus_client.Counter(
            "fastseg_backfiller_worker_restarts_total",
            "Peer workers that died of an unexpected exception and were started again",
            ["peer"],
            registry=registry,
        )
        self.pass_age = prometheus_client.Gauge(
            "fastseg_backfiller_pass_age_seconds",
            "Seconds since the latest pass over a peer that finished (clean or errors), "
            "or since its worker started if none has",
            ["peer"],
            registry=registry,
        )
