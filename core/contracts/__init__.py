"""The contracts plugins implement: ``Task``, ``Backend``, ``Renderer``, the ``Problem`` a task hands a backend, the
``Explanation`` that comes back, targets, options and the hooks. Nothing here imports anything of attrix above it."""
