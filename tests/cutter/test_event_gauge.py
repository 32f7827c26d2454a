"""A running cutter counts the events by state at each heartbeat (``fastseg_cutter_events``)."""

from services.db import states
from services.db.schema import STATES
from tests.cutter.processes import free_port
from tests.servers import metric
from tests.waiting import wait_until


def test_the_cutter_serves_the_events_by_state(db, pg_dsn, archive, tmp_path, cutters):
    for name in ("one", "two"):
        states.add_event(db, f"sheet {name}", category="speedrun")
    port = free_port()
    cutter = cutters.start(pg_dsn, archive, "n1", [f"clips=local:{tmp_path / 'clips'}"],
                           "--metrics-port", str(port))  # fmt: skip

    def counted():
        try:
            text = cutter.metrics(port)
        except OSError:  # not listening yet
            return None
        return text if "fastseg_cutter_events{" in text else None

    text = wait_until(counted, "the events counted")
    assert metric(text, "fastseg_cutter_events", state="UNEDITED") == 2
    # Every state is a series, 0 when no event is in it (an alert can compare with 0).
    for state in STATES:
        assert f'fastseg_cutter_events{{state="{state}"}}' in text
        if state != "UNEDITED":
            assert metric(text, "fastseg_cutter_events", state=state) == 0
    assert cutter.stop() == 0, cutter.output()
