"""The contracts plugins implement: ``Task`` and the ``InputField`` s it declares, ``Backend``, ``Renderer``, the
``Problem`` a task hands a backend, the ``Explanation`` that comes back, targets, options and the hooks.
Nothing here imports anything of attrix above it."""
