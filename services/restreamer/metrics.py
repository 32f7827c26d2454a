"""The restreamer's Prometheus metrics: per-endpoint latency and status counts, ffmpeg jobs.

They live in the registry the app is given (the global one by default), so
that tests can build several apps in one process with a fresh registry each.
"""

import logging

import prometheus_client

from services.runtime.metrics import MetricSet, counter, gauge, histogram

logger = logging.getLogger(__name__)

__all__ = ["Metrics"]

# Segment requests take well under a millisecond to answer; a cold 24-hour
# playlist or a long cut takes seconds; buckets cover both ends.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics(MetricSet):
    """The app's metric objects, registered once in ``registry`` (``Metrics.of(registry)``)."""

    latency = histogram(
        "fastseg_restreamer_request_duration_seconds",
        "Time from a request arriving to its response being sent (or abandoned)",
        ("endpoint", "method"),
        buckets=_BUCKETS,
    )
    requests = counter(
        "fastseg_restreamer_requests_total",
        "Requests answered, by endpoint, method and status code",
        ("endpoint", "method", "status"),
    )
    playlist_computations = counter(
        "fastseg_restreamer_playlist_computations_total",
        "Playlists computed (identical concurrent requests share one computation)",
        ("kind",),
    )
    playlist_shared = counter(
        "fastseg_restreamer_playlist_shared_total",
        "Playlist requests answered by joining an identical computation in flight",
        ("kind",),
    )
    bytes_sent = counter(
        "fastseg_restreamer_segment_bytes_total",
        "Segment bytes promised in response bodies (Content-Length of 200/206 answers)",
    )
    editor_refusals = counter(
        "fastseg_restreamer_editor_refusals_total",
        "Events API writes refused by a limit or a check of who may write: "
        "body_too_large, stale_version (If-Match older than the event), not_admin",
        ("reason",),
    )
    event_streams = gauge(
        "fastseg_restreamer_event_streams", "GET /api/events/stream streams open now"
    )
    event_streams_refused = counter(
        "fastseg_restreamer_event_streams_refused_total",
        "Event streams refused (per_address, total), ended for reading too slowly (slow), "
        "or all told to resync after a burst of changes (burst)",
        ("reason",),
    )
    connections = gauge("fastseg_restreamer_connections", "Client connections open now")
    connections_refused = counter(
        "fastseg_restreamer_connections_refused_total",
        "Connections closed at accept: over the cap per client address or in all",
        ("reason",),
    )
    timeouts = counter(
        "fastseg_restreamer_connection_timeouts_total",
        "Connections closed for time: idle, a request sent too slowly, an answer not read",
        ("phase",),
    )
    bad_requests = counter(
        "fastseg_restreamer_bad_requests_total",
        "Requests refused before any route saw them (malformed, too large, bad framing)",
        ("reason",),
    )
    ffmpeg_jobs = gauge(
        "fastseg_restreamer_ffmpeg_jobs",
        "Requests running ffmpeg now (cuts, frames, thumbnails, waveforms)",
    )
    ffmpeg_refused = counter(
        "fastseg_restreamer_ffmpeg_refused_total",
        "Costly requests refused before any ffmpeg ran, by route and reason",
        ("route", "reason"),
    )
    ffmpeg_stopped = counter(
        "fastseg_restreamer_ffmpeg_stopped_total",
        "ffmpeg jobs stopped before they finished (timeout, client_gone, stopping, memory)",
        ("route", "reason"),
    )
    waveform_cache = counter(
        "fastseg_restreamer_waveform_cache_total",
        "Hours of waveform peaks read from the disk cache (hit) or decoded (miss)",
        ("result",),
    )
    tls_handshake_failures = counter(
        "fastseg_restreamer_tls_handshake_failures_total",
        "HTTPS connections closed before their TLS handshake ended (refused, or timeout)",
        ("reason",),
    )

    def render(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)
