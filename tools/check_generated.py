"""Fail when a committed generated file differs from a fresh generation (`make check-generated`).

Regenerates every derived artefact into a scratch folder inside the repository (so generators see
the same configuration as `make generate`), then compares it byte for byte with the committed
copy: missing, extra and changed files are all reported.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "build" / "check-generated"

# (committed path, command producing it at {out}); a folder or a single file.
TARGETS: list[tuple[str, list[str]]] = [
    (
        "chatterbox/protocol/models",
        [str(ROOT / ".venv/bin/datamodel-codegen"), "--output", "{out}"],
    ),
    ("static/js/protocol/validators.js", ["node", "tools/build-validators.mjs", "--out", "{out}"]),
    ("static/docs/protocol", ["node", "tools/build-protocol-docs.mjs", "--out", "{out}"]),
]


def _tree(path: Path) -> dict[str, Path]:
    if path.is_file():
        return {"": path}
    return {
        p.relative_to(path).as_posix(): p
        for p in sorted(path.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def main() -> int:
    """Regenerate everything and compare; print the differences; 0 when all match."""
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    problems: list[str] = []
    for committed, command in TARGETS:
        out = SCRATCH / committed
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [part.replace("{out}", str(out)) for part in command]
        subprocess.run(cmd, cwd=ROOT, check=True)  # noqa: S603 - fixed commands
        fresh, kept = _tree(out), _tree(ROOT / committed)
        for name in sorted(set(fresh) | set(kept)):
            label = f"{committed}/{name}" if name else committed
            if name not in kept:
                problems.append(f"missing from the repository: {label}")
            elif name not in fresh:
                problems.append(f"stale (no longer generated): {label}")
            elif not filecmp.cmp(fresh[name], kept[name], shallow=False):
                problems.append(f"differs from a fresh generation: {label}")
    shutil.rmtree(SCRATCH.parent, ignore_errors=True)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("Generated files are out of date: run `make generate` and commit.", file=sys.stderr)
        return 1
    print(f"check-generated: {len(TARGETS)} generated artefacts match a fresh generation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
