"""The built-in emotion heads; importing this package registers them."""
from moodbridge.affect.heads import audio, audio_zeroshot, image, midi, text  # noqa: F401
