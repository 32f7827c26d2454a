"""The restreamer's Prometheus metrics: per-endpoint latency and status counts, ffmpeg jobs.

They live in the registry the app is given (the global one by default), so
that tests can build several apps in one process with a fresh registry each.
"""

import logging

import prometheus_client

from services.runtime.metrics import MetricSet

logger = logging.getLogger(__name__)

__all__ = ["Metrics"]

# Segment requests take well under a millisecond to answer; a cold 24-hour
# playlist or a long cut takes seconds; buckets cover both ends.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics(MetricSet):
    """The app's metric objects, registered once in ``registry`` (``Metrics.of(registry)``)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.latency = prometheus_client.Histogram(
            "fastseg_restreamer_request_duration_seconds",
            "Time from a request arriving to its response being sent (or abandoned)",
            ["endpoint", "method"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.requests = prometheus_client.Counter(
            "fastseg_restreamer_requests_total",
            "Requests answered, by endpoint, method and status code",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.playlist_computations = prometheus_client.Counter(
            "fastseg_restreamer_playlist_computations_total",
            "Playlists computed (identical concurrent requests share one computation)",
            ["kind"],
            registry=registry,
        )
        self.playlist_shared = prometheus_client.Counter(
            "fastseg_restreamer_playlist_shared_total",
            "Playlist requests answered by joining an identical computation in flight",
            ["kind"],
            registry=registry,
        )
        self.bytes_sent = prometheus_client.Counter(
            "fastseg_restreamer_segment_bytes_total",
            "Segment bytes promised in response bodies (Content-Length of 200/206 answers)",
            registry=registry,
        )

        self.editor_refusals = prometheus_client.Counter(
            "fastseg_restreamer_editor_refusals_total",
            "Events API writes refused by a limit or a check of who may write: "
            "body_too_large, stale_version (If-Match older than the event), not_admin",
            ["reason"],
            registry=registry,
        )
        self.event_streams = prometheus_client.Gauge(
            "fastseg_restreamer_event_streams",
            "GET /api/events/stream streams open now",
            registry=registry,
        )
        self.event_streams_refused = prometheus_client.Counter(
            "fastseg_restreamer_event_streams_refused_total",
            "Event streams refused (per_address, total), ended for reading too slowly (slow), "
            "or all told to resync after a burst of changes (burst)",
            ["reason"],
            registry=registry,
        )
        self.connections = prometheus_client.Gauge(
            "fastseg_restreamer_connections",
            "Client connections open now",
            registry=registry,
        )
        self.connections_refused = prometheus_client.Counter(
            "fastseg_restreamer_connections_refused_total",
            "Connections closed at accept: over the cap per client address or in all",
            ["reason"],
            registry=registry,
        )
        self.timeouts = prometheus_client.Counter(
            "fastseg_restreamer_connection_timeouts_total",
            "Connections closed for time: idle, a request sent too slowly, an answer not read",
            ["phase"],
            registry=registry,
        )
        self.bad_requests = prometheus_client.Counter(
            "fastseg_restreamer_bad_requests_total",
            "Requests refused before any route saw them (malformed, too large, bad framing)",
            ["reason"],
            registry=registry,
        )
        self.tls_handshake_failures = prometheus_client.Counter(
            "fastseg_restreamer_tls_handshake_failures_total",
            "HTTPS connections closed before their TLS handshake ended (refused, or timeout)",
            ["reason"],
            registry=registry,
        )
        self.ffmpeg_jobs = prometheus_client.Gauge(
            "fastseg_restreamer_ffmpeg_jobs",
            "Requests running ffmpeg now (cuts, frames, thumbnails, waveforms)",
            registry=registry,
        )
        self.ffmpeg_refused = prometheus_client.Counter(
            "fastseg_restreamer_ffmpeg_refused_total",
            "Costly requests refused before any ffmpeg ran, by route and reason",
            ["route", "reason"],
            registry=registry,
        )
        self.ffmpeg_stopped = prometheus_client.Counter(
            "fastseg_restreamer_ffmpeg_stopped_total",
            "ffmpeg jobs stopped before they finished (timeout, client_gone, stopping, memory)",
            ["route", "reason"],
            registry=registry,
        )
        self.waveform_cache = prometheus_client.Counter(
            "fastseg_restreamer_waveform_cache_total",
            "Hours of waveform peaks read from the disk cache (hit) or decoded (miss)",
            ["result"],
            registry=registry,
        )

    def render(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)
