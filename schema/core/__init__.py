"""Shared GraphQL machinery: Node/global IDs, keyset connections, context and query runner,
DataLoaders, error masking. Domains build on these (see schema/README.md)."""
