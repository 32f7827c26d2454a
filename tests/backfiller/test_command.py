"""Bad command lines get a one-line error naming the bad value, before anything starts."""

import datetime as dt

import pytest

from services.backfiller.command import main, parse_start


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "the following arguments are required: --channels", id="no channels"),
        pytest.param(["--channels", "c"], "no peers: give --node URL", id="no peers"),
        pytest.param(
            ["--channels", "c", "--node", "n:80"], "'n:80' is not an http(s) URL", id="bad node"
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node", "http://n", "--node-file", "f"],
            "not allowed with argument",
            id="two peer sources",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "../x", "--node", "http://n"],
            "'../x' cannot be a directory name",
            id="bad channel",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "c", "--node", "http://n"],
            "a name is given twice",
            id="channel twice",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--qualities", " , ", "--node", "http://n"],
            "--qualities ' , ' names no quality",
            id="empty qualities",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node", "http://n", "--start", "yesterdayish"],
            "--start 'yesterdayish' is neither a number of hours ago nor a time",
            id="bad start",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node", "http://n", "--concurrency", "0"],
            "expected a whole number from 1 to 256, got '0'",
            id="zero concurrency",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node", "http://n", "--recent-cutoff", "-1"],
            "expected a number of seconds >= 0, got '-1'",
            id="negative cutoff",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node", "http://n", "--order", "up"],
            "invalid choice: 'up'",
            id="bad order",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node", "http://n", "--backoff", "9", "--max-backoff", "3"],
            "--max-backoff 3.0 is less than --backoff 9.0",
            id="backoff above its cap",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node", "http://n", "--base-dir", "/nonexistent"],
            "--base-dir '/nonexistent' is not a directory",
            id="missing base",
        ),  # fmt: skip
        pytest.param(
            ["--channels", "c", "--node-file", "/nonexistent/nodes"],
            "--node-file: [Errno 2] No such file",
            id="missing node file",
        ),  # fmt: skip
    ],
)
def test_bad_arguments_are_refused(args, message, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("FASTSEG_DB", raising=False)
    if "--base-dir" not in args:
        args = ["--base-dir", str(tmp_path), *args]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_start_is_hours_ago_or_a_time():
    assert parse_start("48") == 48.0
    assert parse_start("0.5") == 0.5
    assert parse_start("2026-11-27T17:00") == dt.datetime(2026, 11, 27, 17, 0)
    assert parse_start("2026-11-27T17:00+01:00") == dt.datetime(2026, 11, 27, 16, 0)
    with pytest.raises(ValueError, match="hours ago must be >= 0"):
        parse_start("-3")
