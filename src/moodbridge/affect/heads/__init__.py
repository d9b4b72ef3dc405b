"""The built-in emotion heads; importing this package registers them."""
from moodbridge.affect.heads import audio, midi  # noqa: F401
