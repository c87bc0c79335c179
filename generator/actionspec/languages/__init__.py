"""The spec languages: mappings and triggers (parse, check, compile)."""
