"""The built-in emotion heads; importing this package registers them (the newest version of a name last)."""
from moodbridge.affect.heads import audio, audio_zeroshot, image, image_v2, midi, text, text_v2  # noqa: F401
