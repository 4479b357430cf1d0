"""Checksums of Russian registration numbers (ИНН, ОГРН/ОГРНИП)."""

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _digit(weights: tuple[int, ...], digits: list[int]) -> int:
    return sum(w * d for w, d in zip(weights, digits)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """10 digits for a legal entity, 12 for an individual entrepreneur."""
    if not inn.isdigit() or len(inn) not in (10, 12) or not inn.isascii():
        return False
    d = [int(c) for c in inn]
    if len(inn) == 10:
        return _digit(_INN10, d) == d[9]
    return _digit(_INN11, d) == d[10] and _digit(_INN12, d) == d[11]


def inn_with_checksum(first9: str) -> str:
    """Complete a legal entity's ИНН from its first nine digits."""
    d = [int(c) for c in first9]
    return first9 + str(_digit(_INN10, d))


def ogrn_is_valid(ogrn: str) -> bool:
    """ОГРН (13 digits, mod 11) or ОГРНИП (15 digits, mod 13)."""
    if not ogrn.isdigit() or not ogrn.isascii():
        return False
    if len(ogrn) == 13:
        return int(ogrn[:12]) % 11 % 10 == int(ogrn[12])
    if len(ogrn) == 15:
        return int(ogrn[:14]) % 13 % 10 == int(ogrn[14])
    return False


def ogrn_with_checksum(first12: str) -> str:
    return first12 + str(int(first12) % 11 % 10)
