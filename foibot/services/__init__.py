"""Use cases. Each public function is one unit of work in one transaction; the CLI and
the daemon call these same functions."""
