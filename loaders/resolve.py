"""References written by name, as clerks write them: a municipality by its name within the
region («г. Дзержинск», «Богородский МО»), an equipment type by its catalogue name, an
organization by its name within the region. Each name resolves to exactly one code, or the
row is reported with the candidates. One Cypher statement per chunk of rows looks up every
name of the chunk (the catalogue and each region's municipalities are fetched once per file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph.registry import REGISTRIES
from loaders.mapping import NESTED, ColumnMap, Record, RowProblem

_OKTMO = re.compile(r"^\d{8}(\d{3})?$")
_INN = re.compile(r"^\d[\d\s]*$")
_CODE = re.compile(r"^[^:\s]+$")
_QUOTES = re.compile(r"[«»\"'“”„`]")
_SPACES = re.compile(r"\s+")
_MUNICIPAL_WORDS = re.compile(
    r"\b(городской округ|городского округа|муниципальный округ|муниципального округа|"
    r"муниципальный район|муниципального района|сельское поселение|городское поселение|"
    r"город|го|мо|р-н|район|округ|г|гп|сп|рп|пгт)\b\.?")


def norm_name(text: str) -> str:
    t = _QUOTES.sub(" ", str(text).casefold().replace("ё", "е"))
    t = re.sub(r"[.,;()]", " ", t)
    return " ".join(t.split())


def norm_municipality(text: str) -> str:
    t = _QUOTES.sub(" ", str(text).casefold().replace("ё", "е"))
    t = re.sub(r"(?<![\w-])(г|р-н|мо|го)\.", r" \1 ", t)
    t = _MUNICIPAL_WORDS.sub(" ", t.replace(".", " "))
    t = re.sub(r"[,;()]", " ", t)
    return " ".join(t.split())


# registry → {field: kind}: the fields each declaration lets clerks fill by name (`by_name`).
REFS: dict[str, Mapping[str, str]] = {
    name: r.by_name for name, r in REGISTRIES.items() if r.by_name}

LOOKUP_CYPHER = """
CALL () {
  MATCH (o:Organization)
  WHERE o.retiredAt IS NULL AND (o.inn IN $inns OR ($want_orgs AND (o.region IN $regions
        OR toLower(o.name) IN $org_names OR toLower(o.short_name) IN $org_names)))
  RETURN collect({key: o.inn, name: o.name, short: o.short_name, region: o.region}) AS orgs
}
CALL (orgs) {
  MATCH (m:Municipality)
  WHERE $want_municipalities AND m.retiredAt IS NULL AND NOT m.region IN $known_regions
        AND ($any_region OR m.region IN $regions OR m.region IN [o IN orgs | o.region])
  RETURN collect({key: m.oktmo, name: m.name, region: m.region}) AS municipalities
}
CALL () {
  MATCH (t:EquipmentType)
  WHERE $want_types AND t.retiredAt IS NULL
  RETURN collect({key: t.code, name: t.name}) AS types
}
RETURN orgs, municipalities, types
"""

KIND_TITLES = {"municipality": "муниципальное образование", "organization": "организация",
               "equipment_type": "тип оборудования"}
KIND_REGISTRY = {"municipality": "Муниципальные образования", "organization": "Организации",
                 "equipment_type": "Типы оборудования"}


@lru_cache(maxsize=65536)  # a file repeats its codes (an owner's ИНН, a type) row after row
def _looks_like_code(kind: str, value: str) -> bool:
    if kind == "municipality":
        return bool(_OKTMO.match(_SPACES.sub("", value)))
    if kind == "organization":
        return bool(_INN.match(value))
    if not _CODE.match(value):
        return False
    return not re.search(r"[а-яё]", value, re.IGNORECASE) \
        or bool(re.fullmatch(r"[A-ZА-ЯЁ]{1,6}-[\w-]+", value))


@dataclass
class Resolver:
    """Per file: caches the catalogue and the municipalities of the regions seen."""

    registry: str
    constants: dict[str, Any] = field(default_factory=dict)
    types: dict[str, list[tuple[str, str]]] | None = None  # norm name → [(code, name)]
    municipalities: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    statements: int = 0

    @property
    def refs(self) -> Mapping[str, str]:
        return REFS.get(self.registry, {})

    def _slots(self, record: Record) -> Iterable[tuple[str, str, int, dict[str, Any], str]]:
        """(field path, kind, file row, holder dict, key in holder) of every name-like ref."""
        for path, kind in self.refs.items():
            if "." in path:
                list_name, item_field = path.split(".")
                for i, item in enumerate(record.data.get(list_name) or []):
                    if isinstance(item, dict) and isinstance(item.get(item_field), str):
                        row = record.item_rows[i] if i < len(record.item_rows) \
                            else record.rows[0]
                        yield path, kind, row, item, item_field
            elif isinstance(record.data.get(path), str):
                yield path, kind, record.rows[0], record.data, path

    def resolve(self, session: Any, cmap: ColumnMap, records: list[Record]
                ) -> list[RowProblem]:
        wanted: dict[str, set[str]] = {"municipality": set(), "organization": set(),
                                       "equipment_type": set()}
        inns: set[str] = set()
        regions: set[str] = set()
        for record in records:
            region = record.data.get("region")
            if isinstance(region, str) and region.strip():
                regions.add(region.strip())
            for _path, kind, _row, holder, key in self._slots(record):
                value = holder[key].strip()
                if _looks_like_code(kind, value):
                    if kind == "organization":
                        inns.add(_SPACES.sub("", value))
                    continue
                wanted[kind].add(value)
        if not any(wanted.values()):
            return []
        want_types = bool(wanted["equipment_type"]) and self.types is None
        known = sorted(r for r in self.municipalities if r != "*")
        any_region = bool(wanted["municipality"]) and not regions and not inns \
            and "*" not in self.municipalities
        self.statements += 1
        result = session.run(
            LOOKUP_CYPHER, inns=sorted(inns), regions=sorted(regions),
            want_orgs=bool(wanted["organization"]),
            org_names=sorted(norm_name(v) for v in wanted["organization"]) +
            sorted(v.casefold() for v in wanted["organization"]),
            want_municipalities=bool(wanted["municipality"]), known_regions=known,
            any_region=any_region, want_types=want_types).single()
        orgs = result["orgs"]
        if want_types:
            self.types = {}
            for t in result["types"]:
                self.types.setdefault(norm_name(t["name"]), []).append((t["key"], t["name"]))
        if wanted["municipality"]:
            for m in result["municipalities"]:
                by_region = self.municipalities.setdefault(m["region"], {})
                by_region.setdefault(norm_municipality(m["name"]), []).append(
                    (m["key"], m["name"]))
            for r in regions | {o["region"] for o in orgs}:
                self.municipalities.setdefault(r, {})
            if any_region:
                self.municipalities["*"] = {}
        org_region = {o["key"]: o["region"] for o in orgs}
        org_names: dict[str, list[dict[str, Any]]] = {}
        for o in orgs:
            for n in {o["name"], o["short"]} - {None}:
                org_names.setdefault(norm_name(n), []).append(o)

        problems: list[RowProblem] = []
        for record in records:
            region = record.data.get("region")
            region = region.strip() if isinstance(region, str) else None
            owner = record.data.get("organization") or record.data.get("base_organization")
            if region is None and isinstance(owner, str):
                region = org_region.get(re.sub(r"\s+", "", owner))
            for path, kind, row, holder, key in self._slots(record):
                value = holder[key].strip()
                if _looks_like_code(kind, value):
                    continue
                found = self._candidates(kind, value, region, org_names)
                column = cmap.source_of(nested_column(self.registry, path))
                if len(found) == 1:
                    holder[key] = found[0][0]
                    if kind == "organization" and region is None:
                        region = org_region.get(found[0][0])
                    continue
                where = f" в регионе {region}" if region and kind != "equipment_type" else ""
                if not found:
                    hint = {"municipality": "укажите код ОКТМО или название, как в реестре",
                            "organization": "укажите ИНН или название, как в реестре",
                            "equipment_type": "укажите код типа по каталогу (например "
                            "EQ-MF-03) или наименование, как в каталоге"}[kind]
                    message = (f"{KIND_TITLES[kind]} «{value}»{where} не найдено в реестре "
                               f"«{KIND_REGISTRY[kind]}»; {hint}")
                else:
                    listed = "; ".join(f"«{name}» ({code})" for code, name in found[:5])
                    more = f" и ещё {len(found) - 5}" if len(found) > 5 else ""
                    message = (f"«{value}»{where} подходит к нескольким записям реестра "
                               f"«{KIND_REGISTRY[kind]}»: {listed}{more}; укажите код")
                problems.append(RowProblem(row, column, path, value, message))
        return problems

    def _candidates(self, kind: str, value: str, region: str | None,
                    org_names: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str]]:
        if kind == "equipment_type":
            return list(dict.fromkeys((self.types or {}).get(norm_name(value), [])))
        if kind == "organization":
            found = org_names.get(norm_name(value), [])
            if region:
                found = [o for o in found if o["region"] == region]
            return list(dict.fromkeys((o["key"], o["name"]) for o in found))
        key = norm_municipality(value)
        pools = [self.municipalities.get(region, {})] if region else \
            list(self.municipalities.values())
        codes = [c for pool in pools for c in pool.get(key, [])]
        return list(dict.fromkeys(codes))


def nested_column(registry: str, path: str) -> str:
    nested = NESTED.get(registry)
    if nested and path.startswith(nested.field + "."):
        return nested.prefix + path.split(".", 1)[1]
    return path
