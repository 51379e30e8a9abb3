"""The provider boundary: the only code in Studio that speaks HTTP to OpenRouter.

``openrouter.client.get_client()`` returns the process's synchronous client (worker,
management commands) and ``openrouter.aclient.get_async_client()`` the running event
loop's asyncio client (web requests); both are built from the OPENROUTER_* settings
(:mod:`openrouter.config`). Typed errors live in :mod:`openrouter.errors`, result
dataclasses in :mod:`openrouter.types`, parameter checks in
:mod:`openrouter.validation` and the offline double in :mod:`openrouter.fake`.
Nothing here imports Django models.
"""
