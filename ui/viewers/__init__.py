"""The preview pane's viewers: images, PDF pages, documents, text and media."""
