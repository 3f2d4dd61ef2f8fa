"""The plugin host: the pluggy plugin manager, the registry of tasks, backends, renderers and metrics it collects, and
the checking of a plugin's options against its constructor's type hints and declared constraints."""
