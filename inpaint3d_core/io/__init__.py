"""Readers and writers for capture formats (images, video, LLFF, transforms.json, COLMAP)."""
