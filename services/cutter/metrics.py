"""The cutter's Prometheus metrics."""

import prometheus_client

from services.runtime.metrics import MetricSet

LABELS = ("channel", "quality", "location", "final_state")


class CutterMetrics(MetricSet):
    """The cutter's metrics (``CutterMetrics.of``)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.videos_uploaded = prometheus_client.Counter(
            "fastseg_cutter_videos_uploaded_total",
            "Videos uploaded, by where they went and the state the event ended in",
            LABELS,
            registry=registry,
        )
        self.upload_errors = prometheus_client.Counter(
            "fastseg_cutter_upload_errors_total",
            "Cuts or uploads that failed, by the state the event was left in",
            LABELS,
            registry=registry,
        )
        self.thumbnail_errors = prometheus_client.Counter(
            "fastseg_cutter_thumbnail_errors_total",
            "Thumbnails that could not be set on a video already uploaded (noted on the event)",
            ("location",),
            registry=registry,
        )
        self.cut_seconds = prometheus_client.Histogram(
            "fastseg_cutter_cut_seconds",
            "From claim until the last byte of the cut was handed to the uploader",
            ("location",),
            buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
            registry=registry,
        )
        self.upload_seconds = prometheus_client.Histogram(
            "fastseg_cutter_upload_finalize_seconds",
            "From the last byte of the cut until the upload was final",
            ("location",),
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=registry,
        )
        self.events = prometheus_client.Gauge(
            "fastseg_cutter_events",
            "Events in the database by state, read at each heartbeat (every cutter of a "
            "team reads the same table)",
            ("state",),
            registry=registry,
        )
