"""Live updates: GraphQL subscriptions over the process's one ChangeSet poll."""
