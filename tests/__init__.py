"""The template's own test suite: the generation matrix, parity, updates, and questions."""
