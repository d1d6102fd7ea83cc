"""Mail adapters: composing and sending outgoing mail (SMTP), reading incoming mail."""
