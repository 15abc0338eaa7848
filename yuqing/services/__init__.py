"""Application services: one module per use case, called by the CLI, the daemon and the web."""
