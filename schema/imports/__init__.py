"""File uploads: `importRegistryFile` (GraphQL multipart request) and `importJob` progress."""
