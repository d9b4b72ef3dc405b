"""``python -m moodbridge``."""
from moodbridge.cli import main

main()
