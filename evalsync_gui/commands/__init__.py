"""CLI sub-commands, one module per feature; each exposes ``register(subparsers)``.

A handler has the signature ``handler(ctx: AppContext | None, args) -> int`` and is set with
``parser.set_defaults(func=handler)``; set ``needs_context=False`` for commands that must not
touch the data folder (the simulator).
"""
