"""Fail when a package's line coverage is below its floor (money code earns the strictest)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

FLOORS = {"rongshu/kernel/": 95.0}


def main(report_path: str) -> int:
    report = json.loads(Path(report_path).read_text())
    status = 0
    for prefix, floor in FLOORS.items():
        covered = total = 0
        for name, data in report["files"].items():
            if prefix in name.replace("\\", "/"):
                covered += data["summary"]["covered_lines"]
                total += data["summary"]["num_statements"]
        percent = 100.0 * covered / total if total else 0.0
        verdict = "ok" if percent >= floor else "BELOW FLOOR"
        print(f"coverage {prefix}: {percent:.1f}% (floor {floor:.0f}%) {verdict}")
        if percent < floor:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
