"""The contracts plugins implement: ``Task`` and the ``InputField`` s it declares, ``Backend``, ``Renderer``,
``Metric`` and the ``FeatureScorer`` it measures with, the ``Problem`` a task hands a backend, the ``Explanation``
that comes back, targets, options and the hooks.
Nothing here imports anything of attrix above it."""
