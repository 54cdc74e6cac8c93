"""Blob stores and the transfer engine: bytes addressed by SHA-256. No catalog, no Qt."""
