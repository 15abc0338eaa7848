"""The application services: one module per use case, each a plain function that takes what it
needs (a session or an engine, the typed config, ``now``) and returns a result dataclass.

The shells (CLI, daemon, demo, web) call these and only parse, print and set exit codes; nothing
here imports from them. Config is validated once into :class:`yuqing.services.config.Config`
at start-up and passed down.
"""
