"""The text templates of the semantic bridge: how a class, tag or label is put into words.

One place for every template, so the bridge, the emotion heads and the
pairing's reading of category labels embed the same sentences.
"""
from __future__ import annotations

#: Placeholder of a template for the embedded text.
SLOT = "{}"
#: ImageNet class names, image category labels and photo descriptions.
PHOTO_TEMPLATE = "a photo of {}"
#: musicnn tag names and music category labels.
MUSIC_TEMPLATE = "{} music"
#: Category labels no taxonomy knows, read by the text emotion head, per modality.
LABEL_TEMPLATES: dict[str, str] = {"audio": MUSIC_TEMPLATE, "image": PHOTO_TEMPLATE}
