"""The control channel between the CLI and the running daemon: a Unix socket."""
