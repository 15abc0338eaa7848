"""Application services: one module per use case, each a plain function over a session (or
engine), typed config and ``now``; the CLI, the daemon and the web app call them."""
