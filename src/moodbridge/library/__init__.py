"""Libraries: a folder with a SQLite catalogue of media items, labels and features."""
from moodbridge.library.catalogue import Catalogue, ErrorRecord, Item
from moodbridge.library.ingest import AddReport
from moodbridge.encoders.run import Failure
from moodbridge.library.labels import LabelImport
from moodbridge.library.library import Library

__all__ = ["AddReport", "Catalogue", "ErrorRecord", "Failure", "Item", "LabelImport", "Library"]
