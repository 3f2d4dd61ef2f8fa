"""The subcommands of ``attrix``: each module adds its parser with ``add_command(commands)``."""

from attrix.commands import app, compare, demo, explain, plugins, run, validate

COMMANDS = (plugins, explain, demo, app, validate, run, compare)
