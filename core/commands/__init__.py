"""The subcommands of ``attrix``: each module adds its parser with ``add_command(commands)``."""

from attrix.commands import demo, explain, plugins

COMMANDS = (plugins, explain, demo)
