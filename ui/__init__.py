"""Media Vault's window: Qt widgets and item models over :mod:`app`.

This is the only package that imports Qt (PySide6). Everything here calls
:mod:`app` for data and does slow work off the GUI thread through
:mod:`ui.tasks`.
"""
