"""The vault facade used by the window, the CLI and the tests.

Each capability is a mixin in its own module; :class:`Vault` puts them
together. See :class:`app.core.VaultBase` for opening and thread affinity.
"""

from __future__ import annotations

from app.browse import BrowseOps
from app.exporter import ExportOps
from app.importer import ImportOps
from app.sharing import ShareOps
from app.space import SpaceOps
from app.tags import TagOps
from app.trash import TrashOps
from app.verify import VerifyOps
from app.versions import VersionOps


class Vault(
    # Capabilities built on others first: their mixins may extend the ones below.
    VersionOps,
    TagOps,
    ShareOps,
    TrashOps,
    ImportOps,
    ExportOps,
    SpaceOps,
    VerifyOps,
    BrowseOps,
):
    """A vault on this computer: catalog, blobs and every operation on them."""
