"""Print the resolved versions of the packages the harness depends on most closely.

python3 .ci/versions.py [--against requirements.lock]
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

WATCHED = ("moto", "boto3", "botocore", "awslambdaric", "aws-sam-translator")


def locked(path: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.MULTILINE)
    return {name.lower(): pinned for name, pinned in pins}


def main(argv: list[str]) -> int:
    lock = locked(Path(argv[argv.index("--against") + 1])) if "--against" in argv else {}
    for name in WATCHED:
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "not installed"
        pinned = lock.get(name)
        note = f" (lock: {pinned})" if pinned and pinned != found else ""
        print(f"  {name:<20} {found}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
