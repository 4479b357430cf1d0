"""The public catalogue: approved programs and where to enrol (open to anonymous callers)."""
