"""The prompt-recovery pack's CLI commands (registered through `Pack.commands()`)."""
