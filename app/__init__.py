"""Media Vault's core: the catalog, its services and the command line. No Qt here."""

__version__ = "0.1.0"
