"""The cutter's Prometheus metrics."""

from services.runtime.metrics import MetricSet, counter, gauge, histogram


class CutterMetrics(MetricSet):
    """The cutter's metrics (``CutterMetrics.of``)."""

    videos_uploaded = counter(
        "fastseg_cutter_videos_uploaded_total",
        "Videos uploaded, by where they went and the state the event ended in",
        ("channel", "quality", "location", "final_state"),
    )
    upload_errors = counter(
        "fastseg_cutter_upload_errors_total",
        "Cuts or uploads that failed, by the state the event was left in",
        ("channel", "quality", "location", "final_state"),
    )
    thumbnail_errors = counter(
        "fastseg_cutter_thumbnail_errors_total",
        "Thumbnails that could not be set on a video already uploaded (noted on the event)",
        ("location",),
    )
    cut_seconds = histogram(
        "fastseg_cutter_cut_seconds",
        "From claim until the last byte of the cut was handed to the uploader",
        ("location",),
        buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    )
    upload_seconds = histogram(
        "fastseg_cutter_upload_finalize_seconds",
        "From the last byte of the cut until the upload was final",
        ("location",),
        buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
    )
    events = gauge(
        "fastseg_cutter_events",
        "Events in the database by state, read at each heartbeat (every cutter of a "
        "team reads the same table)",
        ("state",),
    )
