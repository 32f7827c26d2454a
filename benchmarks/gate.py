"""What every CI gate module shares: a README claim and its check, and the compiled twin.

Each ``benchmarks/test_gate*.py`` module lists the README figures it checks as
``Claim`` objects and imports ``compiled_loaded`` so it runs on the compiled
twin (or skips without it, except under CI, where that fails).
"""

import os
from dataclasses import dataclass

import pytest

import fastseg

REQUIRED = bool(os.environ.get("CI") or os.environ.get("FASTSEG_REQUIRE_EXTENSION"))


@dataclass(frozen=True)
class Claim:
    """One README figure: ``measured`` must reach ``claim`` within ``margin`` (a fraction).

    ``higher`` says which way is better: a ratio of baseline over fastseg must be
    at least claim × (1 - margin); a stall or a size at most claim × (1 + margin).
    """

    text: str
    claim: float
    margin: float
    higher: bool = True

    @property
    def limit(self) -> float:
        return self.claim * (1 - self.margin if self.higher else 1 + self.margin)

    def check(self, measured: float, detail: str = "") -> None:
        word = "floor" if self.higher else "ceiling"
        limits = f"claim {self.claim:.3g}, {word} {self.limit:.3g}"
        print(f"\n{self.text}: {measured:.3g} ({limits}){detail}")
        ok = measured >= self.limit if self.higher else measured <= self.limit
        assert ok, (
            f"{self.text} measured {measured:.3g}, past the {word} of {self.limit:.3g} "
            f"(the README claims {self.claim:.3g}, margin {self.margin:.0%}): fix the "
            "regression, or the README if the claim was wrong"
        )


@pytest.fixture(scope="module", autouse=True)
def compiled_loaded():
    """The public API must be running on the compiled twin (a CI failure if it is not)."""
    if fastseg.IMPLEMENTATION != "compiled":
        why = (
            "fastseg loaded its pure twin (FASTSEG_PURE=1, or the extension is not built: "
            "run make build)"
        )
        if REQUIRED:
            pytest.fail(f"{why}; CI requires the compiled twin", pytrace=False)
        pytest.skip(why)
