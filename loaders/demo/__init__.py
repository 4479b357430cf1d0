"""The demo region (`hub load demo`): generated deterministically into the exchange format.

Its activity is dated relative to the day it is loaded (`today`, default the clock, or
`HUB_DEMO_TODAY=YYYY-MM-DD`): the same day and seed give the same rows."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

DEMO_SEED = 52


def demo_today(today: dt.date | None = None) -> dt.date:
    if today is not None:
        return today
    pinned = os.environ.get("HUB_DEMO_TODAY", "").strip()
    return dt.date.fromisoformat(pinned) if pinned else dt.date.today()


def write_demo(directory: Path, fmt: str = "jsonl", today: dt.date | None = None
               ) -> dict[str, int]:
    """The demo region's registries, its activity dated relative to `today`."""
    from collections import defaultdict

    from loaders.demo_activities import demo_activities
    from loaders.formats import RegistryFiles
    from loaders.generate import CATALOGUE, SCALES, build_catalogue, generate_region, region_list

    spec = SCALES["demo"]
    cat = build_catalogue(DEMO_SEED, spec.competencies)
    counts: dict[str, int] = defaultdict(int)
    directory = Path(directory)
    with RegistryFiles(directory, fmt) as files:
        for name in CATALOGUE:
            files.write(name, getattr(cat, name))
        counts.update(files.counts)
    data = generate_region(DEMO_SEED, spec, cat, region_list(spec)[0])
    data.update(demo_activities(data, seed=DEMO_SEED, today=demo_today(today)))
    with RegistryFiles(directory, fmt) as files:
        for name, rows in data.items():
            files.write(name, rows)
    for name, rows in data.items():
        counts[name] += len(rows)
    return dict(counts)
