"""Experiments from YAML configs: their schema, the YAML that remembers where each key was set, ``--set``
overrides, and validation with errors that name the key."""
