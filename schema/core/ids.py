"""Global IDs: base64 of "Label:uid" (Relay convention)."""

from __future__ import annotations

import base64
import binascii

from graphql import GraphQLError


def encode_id(label: str, uid: str) -> str:
    return base64.b64encode(f"{label}:{uid}".encode()).decode()


def decode_id(global_id: str) -> tuple[str, str]:
    try:
        label, sep, uid = base64.b64decode(global_id, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        label, sep, uid = "", "", ""
    if not sep or not label or not uid:
        raise GraphQLError(f"Неверный идентификатор: {global_id!r}",
                           extensions={"code": "BAD_ID"})
    return label, uid
