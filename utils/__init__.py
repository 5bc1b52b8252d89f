"""Pure helpers: audio pipeline, text handling, safe file access."""
