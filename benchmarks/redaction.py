"""The redactor on adversarial input (issue 15): every credential pattern against 1 MB built to
make a backtracking regex try every position (a run of one letter, `eyJ` or `-----BEGIN` over
and over, a scheme with no `@`, ...). Each shape is timed alone (best of three) beside a baseline
measured in the same run: one pass of a trivial regex over the same text, so the report gives
how many such passes the redactor costs. The goal: under 1 s for the worst shape.

`python benchmarks/redaction.py` prints the table on its own."""

from __future__ import annotations

import re
import time
from typing import Any

SIZE = 1_000_000
GOAL_S = 1.0


def shapes(size: int = SIZE) -> dict[str, str]:
    return {
        "one letter": "a" * size, "no @ after a scheme": "a://" + "b" * size, "schemes": "a://b:" * (size // 6),
        "user: repeated": "x://" + "u:" * (size // 2), "eyJ repeated": "eyJ" * (size // 3),
        "BEGIN without END": "-----BEGIN PRIVATE KEY-----" * (size // 27), "BEGIN then text": "-----BEGIN PRIVATE KEY-----" + "x" * size,
        "bearer repeated": "bearer " * (size // 7), "token then spaces": "token" + " " * size, "token repeated": "token " * (size // 6),
        "flag segments": " --a" + "-a" * (size // 2), "header names": "x-api-key" * (size // 9), "cookies": "set-cookie:" * (size // 11),
        "colons": ":" * size, "at signs": "@" * size, "AKIA repeated": "AKIA" * (size // 4), "near-hex": ("a" * 63 + "g") * (size // 64),
    }


def _best(call: Any, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def measure_redaction(log: Any = print, size: int = SIZE) -> dict[str, Any]:
    from castui.report.redact import Redactor

    redactor = Redactor(secrets=["a-known-secret-value"])
    trivial = re.compile(r"\x00")
    by_shape = {}
    for name, text in shapes(size).items():
        baseline = _best(lambda: trivial.search(text))
        took = _best(lambda: Redactor.text(redactor, text))
        by_shape[name] = {"seconds": round(took, 4), "baseline_s": round(baseline, 5), "ratio": round(took / max(baseline, 1e-6), 1)}
    worst = max(by_shape, key=lambda n: by_shape[n]["seconds"])
    result = {"bytes": size, "goal_s": GOAL_S, "worst_shape": worst, "worst_s": by_shape[worst]["seconds"],
              "met": by_shape[worst]["seconds"] < GOAL_S, "shapes": by_shape}
    log(f"redaction of {size:,} adversarial bytes: worst {worst!r} {by_shape[worst]['seconds']:.3f}s (goal < {GOAL_S:g}s)")
    return result


if __name__ == "__main__":
    outcome = measure_redaction()
    for shape, row in outcome["shapes"].items():
        print(f"{shape:22s} {row['seconds']:.3f}s  ({row['ratio']:g}× one trivial regex pass)")
