"""gevent's ``monkey.patch_all`` at about half its start-up cost.

Before and after patching each module, gevent looks for plugins of that event
among the installed packages' entry points, and every look-up reads the metadata
of every installed distribution again: about thirty scans, some 0.1 s of CPU in
every process start (it counts in each ``--run-once`` backfill, for instance).
Here the entry points are read once and the same plugins still run, in the same
order, for every event.
"""

__all__ = ["patch_all"]


def patch_all() -> None:
    """``gevent.monkey.patch_all()`` with its defaults, reading entry points once."""
    from importlib import metadata  # noqa: PLC0415 - nothing imported before patching

    import gevent.events  # noqa: PLC0415
    from gevent import monkey  # noqa: PLC0415

    installed = metadata.entry_points()
    scanning = gevent.events.notify_and_call_entry_points

    def notify_and_call_entry_points(event) -> None:
        gevent.events.notify(event)
        for plugin in installed.select(group=event.ENTRY_POINT_NAME):
            plugin.load()(event)

    gevent.events.notify_and_call_entry_points = notify_and_call_entry_points
    try:
        monkey.patch_all()
    finally:
        gevent.events.notify_and_call_entry_points = scanning
