"""GraphQL of capability matching and network-program planning (graph/capability.py,
graph/planning.py): types, thin resolvers, mutations."""
