"""The shared argparse types for seconds: finite, and above (or at least) zero."""

import argparse

import pytest

from services.runtime.service import non_negative_seconds, positive_seconds


@pytest.mark.parametrize(("text", "expected"), [("1", 1.0), ("0.25", 0.25), ("1e3", 1000.0)])
def test_positive_seconds_accepts(text, expected):
    assert positive_seconds(text) == expected
    assert non_negative_seconds(text) == expected


@pytest.mark.parametrize("text", ["0", "-1", "inf", "Infinity", "-inf", "nan", "soon", ""])
def test_positive_seconds_refuses(text):
    with pytest.raises(
        argparse.ArgumentTypeError, match=f"expected a positive number of seconds, got {text!r}"
    ):
        positive_seconds(text)


def test_zero_is_not_negative():
    assert non_negative_seconds("0") == 0.0


@pytest.mark.parametrize("text", ["-0.5", "inf", "nan", "soon", ""])
def test_non_negative_seconds_refuses(text):
    with pytest.raises(
        argparse.ArgumentTypeError, match=f"expected a number of seconds >= 0, got {text!r}"
    ):
        non_negative_seconds(text)


def test_a_command_line_reports_the_type_error_in_one_line(capsys):
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--interval", type=positive_seconds)
    with pytest.raises(SystemExit):
        parser.parse_args(["--interval", "inf"])
    assert "argument --interval: expected a positive number of seconds, got 'inf'" in (
        capsys.readouterr().err
    )
