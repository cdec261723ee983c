"""Fetch Apache ECharts from the npm registry into our own static files (the supervision targets dashboard's charts;
no CDN): the pinned version's tarball, checked against the sha512 integrity the registry publishes for it, then
`dist/echarts.min.js` with its LICENSE and NOTICE (Apache-2.0) written to services/supervision/static/vendor/echarts/.

Run by `make setup` (and the image build, with --strict). Standard library only. Without the registry it says so
and leaves the dashboard showing its tables with a note that the charts are not installed (exit 0), unless --strict.
`NPM_CONFIG_REGISTRY` names another registry (a mirror); the integrity check is the same."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

VERSION = "6.1.0"
# `dist.integrity` of echarts@6.1.0 in the npm registry's metadata (https://registry.npmjs.org/echarts/6.1.0)
INTEGRITY = "sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA=="
FILES = {"package/dist/echarts.min.js": "echarts.min.js", "package/LICENSE": "LICENSE.txt",
         "package/NOTICE": "NOTICE.txt"}
TARGET = Path(__file__).resolve().parent.parent / "services" / "supervision" / "static" / "vendor" / "echarts"
STAMP = f"echarts {VERSION} {INTEGRITY}\n"


def installed(target: Path = TARGET) -> bool:
    return (target / "VERSION").is_file() and (target / "VERSION").read_text() == STAMP and all(
        (target / name).is_file() for name in FILES.values())


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(registry: str, target: Path = TARGET) -> None:
    url = f"{registry.rstrip('/')}/echarts/-/echarts-{VERSION}.tgz"
    with urllib.request.urlopen(url, timeout=120) as answer:
        data = answer.read()
    if integrity_of(data) != INTEGRITY:
        raise RuntimeError(f"{url}: integrity {integrity_of(data)} is not the pinned {INTEGRITY}")
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member, name in FILES.items():
            content = archive.extractfile(member).read()
            with tempfile.NamedTemporaryFile(dir=target, delete=False) as out:
                out.write(content)
            os.replace(out.name, target / name)
            (target / name).chmod(0o644)
    (target / "VERSION").write_text(STAMP)


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    if installed():
        return 0
    registry = os.environ.get("NPM_CONFIG_REGISTRY") or "https://registry.npmjs.org"
    try:
        fetch(registry)
    except Exception as exc:                    # no registry, a proxy, a changed tarball: say which, clearly
        print(f"echarts {VERSION} not installed ({exc}).\n  The supervision targets dashboard will show its tables "
              f"without charts. Retry with: make setup  (or python deploy/fetch_echarts.py)", file=sys.stderr)
        return 1 if strict else 0
    print(f"echarts {VERSION} installed in {TARGET.relative_to(TARGET.parents[4])} (integrity checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
