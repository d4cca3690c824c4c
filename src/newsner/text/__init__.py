"""Text geometry: offset units (UTF-16 / code points / grapheme clusters), grapheme-aware tokens, span alignment."""
