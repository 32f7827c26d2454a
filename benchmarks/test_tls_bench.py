"""What TLS costs the restreamer: random 1 MiB segments over HTTP and over HTTPS, side by side.

Over HTTP a segment goes by sendfile; over TLS it is read into a buffer and
encrypted in the process (docs/DESIGN.md#tls). Two restreamers serve the same
files, one with ``--tls-cert``; wrk (kept-alive connections, so one handshake
each) fetches from each in alternating rounds, and the best round of each is
kept. Requests/s and the server's CPU per request are printed. Run with
``pytest benchmarks/test_tls_bench.py --benchmark-enable -s -p no:cacheprovider``.
"""

import shutil

import pytest
import requests

from benchmarks.test_restreamer_bench import (  # noqa: F401 - serve_tree is a fixture
    WRK_SCRIPT,
    cpu_seconds,
    report,
    run_wrk,
    serve_tree,
)
from tests.certificates import self_signed
from tests.servers import ServerProcess

SECONDS = 3
ROUNDS = 3


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (scripts/install-system-deps)")
@pytest.mark.benchmark(group="restreamer-tls")
def test_serving_segments_over_https_against_http(serve_tree, tmp_path, benchmark):  # noqa: F811
    base, listing, urls = serve_tree
    seconds = 1 if benchmark.disabled else SECONDS
    script = tmp_path / "random.lua"
    script.write_text(WRK_SCRIPT % {"urls": listing})
    cert, key = self_signed(tmp_path)
    plain = ServerProcess(base)
    tls = ServerProcess(base, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        contenders = {"http": plain, "https": tls}
        for server in contenders.values():
            first = requests.get(server.url + urls[0], verify=str(cert), timeout=30)
            assert first.content == (base / urls[0][len("/segments/") :]).read_bytes()
        results: dict[str, dict] = {}
        for _ in range(1 if benchmark.disabled else ROUNDS):
            for name, server in contenders.items():
                before = cpu_seconds([server.proc.pid])
                r = run_wrk(server.url, script, seconds)  # wrk checks no certificate
                r["cpu"] = cpu_seconds([server.proc.pid]) - before
                assert r["errors"] == 0, (name, r)
                assert r["non2xx"] == 0, (name, r)
                if name not in results or r["requests"] > results[name]["requests"]:
                    results[name] = r
        with requests.Session() as session:  # the pytest-benchmark row: one segment over TLS
            session.trust_env = False
            session.verify = str(cert)
            benchmark.pedantic(lambda: session.get(tls.url + urls[1], timeout=30).content,
                               rounds=1 if benchmark.disabled else 50, iterations=1)  # fmt: skip
    finally:
        plain.stop()
        tls.stop()
    rows = []
    for name, r in results.items():
        elapsed = r["micros"] / 1e6
        r["rps"] = r["requests"] / elapsed
        r["cpu_us"] = r["cpu"] / r["requests"] * 1e6
        rows.append((f"{name} requests/s", f"{r['rps']:10.0f}"))
        rows.append((f"{name} MB/s", f"{r['bytes'] / elapsed / 1e6:10.1f}"))
        rows.append((f"{name} server CPU per request", f"{r['cpu_us']:10.1f} us"))
    rows.append(("https / http CPU per request",
                 f"{results['https']['cpu_us'] / results['http']['cpu_us']:10.2f}"))  # fmt: skip
    report(f"random 1 MiB segments, best of {ROUNDS} alternating {seconds} s rounds "
           "(wrk -t1 -c50, one server process each):", rows)  # fmt: skip
    benchmark.extra_info.update({f"{n}_{k}": r[k] for n, r in results.items()
                                 for k in ("rps", "cpu_us")})  # fmt: skip
