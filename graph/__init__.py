"""The domain: models, registries, Cypher, migrations and algorithms. Imports nothing of ours."""
