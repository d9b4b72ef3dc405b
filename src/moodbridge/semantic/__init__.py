"""The offline semantic bridge through text (EMID's shared space, stood in for by MiniLM).

:mod:`~moodbridge.semantic.embeddings` embeds texts and class/tag names with the
``minilm`` encoder (cached) and weights them by probabilities;
:mod:`~moodbridge.semantic.bridge` maps an item's encoder outputs into that space;
:mod:`~moodbridge.semantic.templates` holds the templates both use.
"""
