"""The sheet sync's Prometheus metrics, in the registry it is given.

A node restarts a crashed sync in the same process, so the metrics of a
registry are made once and handed out again (see services.runtime.metrics).
"""

import prometheus_client

from services.runtime.metrics import MetricSet

__all__ = ["Metrics"]


class Metrics(MetricSet):
    """The sync's metrics (``Metrics.of(registry)``)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.rows_read = prometheus_client.Counter(
            "fastseg_sheetsync_rows_read_total",
            "Rows with something in them read from the spreadsheet (every pass counts)",
            registry=registry,
        )
        self.events_added = prometheus_client.Counter(
            "fastseg_sheetsync_events_added_total",
            "Events added from new rows of the spreadsheet",
            registry=registry,
        )
        self.events_updated = prometheus_client.Counter(
            "fastseg_sheetsync_events_updated_total",
            "Events whose sheet inputs were changed to what their row says",
            registry=registry,
        )
        self.writebacks = prometheus_client.Counter(
            "fastseg_sheetsync_writebacks_total",
            "Rows whose id, state, error or link cells the sync wrote",
            registry=registry,
        )
        self.api_errors = prometheus_client.Counter(
            "fastseg_sheetsync_api_errors_total",
            "Failed Google Sheets requests, by kind (HTTP status, connection, token)",
            ["kind"],
            registry=registry,
        )
        self.bad_rows = prometheus_client.Gauge(
            "fastseg_sheetsync_bad_rows",
            "Rows of the latest pass that could not become events (their error cell says why)",
            registry=registry,
        )
        self.events_without_row = prometheus_client.Gauge(
            "fastseg_sheetsync_events_without_row",
            "Events of the synced worksheets whose row is gone from the sheet (kept, not deleted)",
            registry=registry,
        )
