"""Images That Speak: shared code for the top-level scripts."""
