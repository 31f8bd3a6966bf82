"""Print the commands of the README's quick start, one per line (what CI runs).

    python3 .ci/readme_commands.py README.md

The quick start is the first ```bash block after the "## Quick start" heading; each non-empty
line of it is one command (a trailing `# comment` is left to the shell).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def quick_start(readme: str) -> list[str]:
    section = readme.split("\n## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    if block is None:
        raise SystemExit("the README's quick start has no ```bash block")
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


if __name__ == "__main__":
    for command in quick_start(Path(sys.argv[1]).read_text()):
        print(command)
