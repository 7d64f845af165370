"""The AIMO pack's CLI commands (registered through `Pack.commands()`)."""
