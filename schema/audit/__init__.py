"""The audit trail through GraphQL: `changes(filter…)`, admin and operator only."""
