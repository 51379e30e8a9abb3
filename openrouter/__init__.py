"""The provider boundary: the only code in Studio that speaks HTTP to OpenRouter.

``openrouter.client.get_client()`` returns the process's synchronous client (the worker and
management commands: video jobs, the catalogues, the key's usage) and
``openrouter.aclient.get_async_client()`` the running event loop's asyncio client (web
requests: text and images); both are built from the OPENROUTER_* settings
(:mod:`openrouter.config`) and share every non-I/O part; their I/O is in
:mod:`openrouter.exchange`, each sync half beside its async one. Typed errors live in
:mod:`openrouter.errors`, result dataclasses in :mod:`openrouter.types`, parameter checks
in :mod:`openrouter.validation` and the offline double in :mod:`openrouter.fake`.
Nothing here imports Django models.
"""
