"""The downloader's Prometheus metrics, labelled by channel and quality."""

from services.runtime.metrics import MetricSet, counter, gauge


class DownloaderMetrics(MetricSet):
    """The downloader's metrics, labelled by channel and quality (``DownloaderMetrics.of``)."""

    segments_downloaded = counter(
        "fastseg_downloader_segments_total",
        "Segment files written, by type (full, suspect, partial)",
        ("channel", "quality", "type"),
    )
    segment_bytes = counter(
        "fastseg_downloader_segment_bytes_total",
        "Bytes written to segment files, by type",
        ("channel", "quality", "type"),
    )
    latest_segment = gauge(
        "fastseg_downloader_latest_segment_timestamp_seconds",
        "Start time (unix seconds) of the newest segment seen in a media playlist",
        ("channel", "quality"),
    )
    time_skew = gauge(
        "fastseg_downloader_time_skew_seconds",
        "Local clock minus the end time of the newest listed segment (how far behind live we are)",
        ("channel", "quality"),
    )
    playlist_errors = counter(
        "fastseg_downloader_playlist_errors_total",
        "Media or master playlist fetches that failed or did not parse",
        ("channel", "quality", "kind"),
    )
    segment_errors = counter(
        "fastseg_downloader_segment_errors_total",
        "Segment fetch attempts that failed (each is retried unless the URL expired)",
        ("channel", "quality", "reason"),
    )
    time_jumps = counter(
        "fastseg_downloader_time_jumps_total",
        "Segments whose start was more than 10 ms from where the previous one ended",
        ("channel", "quality"),
    )
    missed_segments = counter(
        "fastseg_downloader_missed_segments_total",
        "Segments that left the playlist before any poll saw them (an outage, say): never recorded",
        ("channel", "quality"),
    )
    ads_dropped = counter(
        "fastseg_downloader_ads_dropped_total",
        "Ad segments left out (Twitch provider)",
        ("channel", "quality"),
    )
    refused_variants = counter(
        "fastseg_downloader_refused_variants_total",
        "Variants of a master playlist not recorded, by reason: name (it cannot be a "
        "directory under BASE) or limit (over the qualities a channel records)",
        ("channel", "reason"),
    )
