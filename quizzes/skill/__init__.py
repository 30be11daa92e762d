"""The skill model (placeholder)."""
