"""Integrations with optional third-party packages, loaded only when they are installed."""
