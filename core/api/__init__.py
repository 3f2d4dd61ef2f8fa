"""The in-process API: ``Explainer`` (a model, a task and a backend composed into one callable), ``evaluate`` (faithfulness
metrics of its attributions), loading models by name, placing them on a device, showing explanations in notebooks, and the embedded default model."""
