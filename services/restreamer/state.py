"""What the routes share, kept on the app: the archive root, metrics, computations in flight,
the pool of ffmpeg jobs."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from flask import current_app

from services.restreamer.flights import Flights
from services.restreamer.hls import MediaCache
from services.restreamer.jobs import JobPool
from services.restreamer.metrics import Metrics

logger = logging.getLogger(__name__)

__all__ = ["State", "state"]


@dataclass
class State:
    base_dir: str  # real path of the archive root
    metrics: Metrics
    max_range: dt.timedelta  # the longest range a playlist or cut may ask for
    implicit_range: dt.timedelta  # the longest a playlist covers without start and end
    flights: Flights = field(default_factory=Flights)
    rendered: MediaCache = field(default_factory=MediaCache)  # hours of playlist text
    batches: int = 0  # /batch answers holding their segments open (services.restreamer.batch)
    jobs: JobPool | None = None  # the ffmpeg jobs of costly routes (set by create_app)


def state() -> State:
    """The State of the app handling the current request."""
    return current_app.extensions["restreamer"]
