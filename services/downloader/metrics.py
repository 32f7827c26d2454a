"""The downloader's Prometheus metrics, labelled by channel and quality."""

import prometheus_client

from services.runtime.metrics import MetricSet

_LABELS = ["channel", "quality"]


class DownloaderMetrics(MetricSet):
    """The downloader's metrics, labelled by channel and quality (``DownloaderMetrics.of``)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.segments_downloaded = prometheus_client.Counter(
            "fastseg_downloader_segments_total",
            "Segment files written, by type (full, suspect, partial)",
            [*_LABELS, "type"],
            registry=registry,
        )
        self.segment_bytes = prometheus_client.Counter(
            "fastseg_downloader_segment_bytes_total",
            "Bytes written to segment files, by type",
            [*_LABELS, "type"],
            registry=registry,
        )
        self.latest_segment = prometheus_client.Gauge(
            "fastseg_downloader_latest_segment_timestamp_seconds",
            "Start time (unix seconds) of the newest segment seen in a media playlist",
            _LABELS,
            registry=registry,
        )
        self.time_skew = prometheus_client.Gauge(
            "fastseg_downloader_time_skew_seconds",
            "Local clock minus the end time of the newest listed segment "
            "(how far behind live we are)",
            _LABELS,
            registry=registry,
        )
        self.playlist_errors = prometheus_client.Counter(
            "fastseg_downloader_playlist_errors_total",
            "Media or master playlist fetches that failed or did not parse",
            [*_LABELS, "kind"],
            registry=registry,
        )
        self.segment_errors = prometheus_client.Counter(
            "fastseg_downloader_segment_errors_total",
            "Segment fetch attempts that failed (each is retried unless the URL expired)",
            [*_LABELS, "reason"],
            registry=registry,
        )
        self.time_jumps = prometheus_client.Counter(
            "fastseg_downloader_time_jumps_total",
            "Segments whose start was more than 10 ms from where the previous one ended",
            _LABELS,
            registry=registry,
        )
        self.missed_segments = prometheus_client.Counter(
            "fastseg_downloader_missed_segments_total",
            "Segments that left the playlist before any poll saw them "
            "(an outage, say): never recorded",
            _LABELS,
            registry=registry,
        )
        self.ads_dropped = prometheus_client.Counter(
            "fastseg_downloader_ads_dropped_total",
            "Ad segments left out (Twitch provider)",
            _LABELS,
            registry=registry,
        )
        self.refused_variants = prometheus_client.Counter(
            "fastseg_downloader_refused_variants_total",
            "Variants of a master playlist not recorded, by reason: name (it cannot be a "
            "directory under BASE) or limit (over the qualities a channel records)",
            ["channel", "reason"],
            registry=registry,
        )
