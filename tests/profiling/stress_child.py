"""A child process that samples stacks at a high rate while ``/metrics`` is scraped hard.

Run as ``python -m tests.profiling.stress_child MODE HANDLER SECONDS INTERVAL WATCHDOG``:

* MODE ``threads``: an HTTP ``/metrics`` server thread, a scraper thread, and the
  main thread collecting the registry in a tight loop (signal handlers run on the
  main thread, so that is where a lock held by a collection can be re-entered).
* MODE ``gevent``: the same under ``gevent.monkey.patch_all()``, with a gevent
  WSGI server and a scraper greenlet; the main greenlet collects and yields.
* HANDLER ``sampler``: profiling.StackSampler (the fix). ``naive``: a SIGVTALRM
  handler that calls a prometheus_client ``Counter.labels().inc()`` directly,
  which is the hazard the sampler exists to avoid.

A hang is caught by ``faulthandler.dump_traceback_later(..., exit=True)``, re-armed
after every collection: if the main loop stops making progress for WATCHDOG
seconds, every thread's traceback goes to stderr and the process exits with 1.
Under gevent a stuck greenlet is not on any thread's stack, so a monitor greenlet
(the hub keeps running) prints every greenlet's stack first, at WATCHDOG / 2.
On success it prints one JSON line: collections, scrapes and sampled seconds.
"""

import sys

MODE, HANDLER = sys.argv[1], sys.argv[2]
SECONDS, INTERVAL, WATCHDOG = (float(a) for a in sys.argv[3:6])

if MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

import faulthandler  # noqa: E402 - gevent must patch first
import json  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

import prometheus_client  # noqa: E402

import profiling  # noqa: E402

registry = prometheus_client.CollectorRegistry()
work_done = prometheus_client.Counter("stress_work", "loop iterations", ["kind"], registry=registry)


@profiling.timed("stress_step", registry=registry, kind="cpu")
def busy_step(n):
    """Some CPU work for the sampler to land in."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def install_naive_handler(interval):
    """The hazard: a handler that updates a prometheus_client counter itself."""
    naive = prometheus_client.Counter(
        "naive_stack_seconds", "the unsafe way", ["stack"], registry=registry
    )

    def handler(signum, frame):
        # One fixed series, so both the metric's lock and that value's lock can
        # be the one the interrupted collection holds.
        naive.labels("main").inc(interval)
        signal.setitimer(signal.ITIMER_VIRTUAL, interval)

    signal.signal(signal.SIGVTALRM, handler)
    signal.setitimer(signal.ITIMER_VIRTUAL, interval)
    return naive


def scrape_forever(url, counts, stop):
    while not stop.is_set():
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
        if b"stress_work_total" not in body:
            raise AssertionError(f"scrape of {url} lacks stress_work_total: {body[:200]!r}")
        counts["scrapes"] += 1


def serve(registry):
    """Start a /metrics server; returns (url, stopper)."""
    if MODE == "gevent":
        from gevent.pywsgi import WSGIServer  # noqa: PLC0415 - only in gevent mode

        server = WSGIServer(("127.0.0.1", 0), prometheus_client.make_wsgi_app(registry), log=None)
        server.start()
        return f"http://127.0.0.1:{server.server_port}/metrics", server.stop
    server, thread = prometheus_client.start_http_server(0, "127.0.0.1", registry=registry)
    return f"http://127.0.0.1:{server.server_port}/metrics", server.shutdown


def watch_greenlets(counts):
    """Under gevent: print every greenlet's stack once the main loop stalls."""
    import gevent  # noqa: PLC0415 - only in gevent mode
    import gevent.util  # noqa: PLC0415

    last, stalled = -1, 0.0
    while True:
        gevent.sleep(0.1)
        if counts["collections"] != last:
            last, stalled = counts["collections"], 0.0
            continue
        stalled += 0.1
        if stalled >= WATCHDOG / 2:
            print("main loop stalled; greenlets:", file=sys.stderr)
            print("\n".join(gevent.util.format_run_info()), file=sys.stderr, flush=True)
            return


def main():
    url, stop_server = serve(registry)
    counts = {"scrapes": 0, "collections": 0}
    if MODE == "gevent":
        import gevent  # noqa: PLC0415 - only in gevent mode

        gevent.spawn(watch_greenlets, counts)
    stop = threading.Event()  # a gevent Event once patched
    errors = []

    def scraper():
        try:
            scrape_forever(url, counts, stop)
        except Exception as e:  # reported in the JSON line, which fails the test
            errors.append(repr(e))

    scrape_thread = threading.Thread(target=scraper, daemon=True)
    scrape_thread.start()
    sampler = naive = None
    if HANDLER == "sampler":
        sampler = profiling.StackSampler(INTERVAL, registry=registry)
        sampler.start()
    else:
        naive = install_naive_handler(INTERVAL)
    print("started", flush=True)

    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        faulthandler.dump_traceback_later(WATCHDOG, exit=True)
        busy_step(200)
        if naive is not None:
            # Spend most of the time where the hazard is: collecting the metric
            # the handler writes to.
            for _ in range(50):
                list(naive.collect())
        work_done.labels("collect").inc()
        prometheus_client.generate_latest(registry)
        counts["collections"] += 1
        if MODE == "gevent":
            time.sleep(0)  # gevent's sleep once patched: let the server and scraper run
    faulthandler.cancel_dump_traceback_later()

    sampled = {}
    if sampler is not None:
        sampler.stop()
        sampled = sampler.counts()
    stop.set()
    scrape_thread.join(timeout=15)
    stop_server()
    print(
        json.dumps(
            {
                "collections": counts["collections"],
                "scrapes": counts["scrapes"],
                "sampled_seconds": sum(sampled.values()),
                "stacks": sorted(sampled),
                "scraper_alive": scrape_thread.is_alive(),
                "errors": errors,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
