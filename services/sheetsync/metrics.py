"""The sheet sync's Prometheus metrics, in the registry it is given.

A node restarts a crashed sync in the same process, so the metrics of a
registry are made once and handed out again (see services.runtime.metrics).
"""

from services.runtime.metrics import MetricSet, counter, gauge

__all__ = ["Metrics"]


class Metrics(MetricSet):
    """The sync's metrics (``Metrics.of(registry)``)."""

    rows_read = counter(
        "fastseg_sheetsync_rows_read_total",
        "Rows with something in them read from the spreadsheet (every pass counts)",
    )
    events_added = counter(
        "fastseg_sheetsync_events_added_total", "Events added from new rows of the spreadsheet"
    )
    events_updated = counter(
        "fastseg_sheetsync_events_updated_total",
        "Events whose sheet inputs were changed to what their row says",
    )
    writebacks = counter(
        "fastseg_sheetsync_writebacks_total",
        "Rows whose id, state, error or link cells the sync wrote",
    )
    api_errors = counter(
        "fastseg_sheetsync_api_errors_total",
        "Failed Google Sheets requests, by kind (HTTP status, connection, token)",
        ("kind",),
    )
    bad_rows = gauge(
        "fastseg_sheetsync_bad_rows",
        "Rows of the latest pass that could not become events (their error cell says why)",
    )
    events_without_row = gauge(
        "fastseg_sheetsync_events_without_row",
        "Events of the synced worksheets whose row is gone from the sheet (kept, not deleted)",
    )
