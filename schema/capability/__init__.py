"""GraphQL of capability matching and network-program planning (graph/capability.py,
graph/planning/): types, thin resolvers, mutations."""
