"""The demo region (`hub load demo`): generated deterministically into the exchange format."""

from __future__ import annotations

from pathlib import Path

DEMO_SEED = 52


def write_demo(directory: Path, fmt: str = "jsonl") -> dict[str, int]:
    from loaders.generate import generate

    return generate(Path(directory), scale="demo", seed=DEMO_SEED, fmt=fmt)
