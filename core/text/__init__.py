"""Text: checking and encoding inputs within the model's limit, words from the tokenizer's offsets, and ``TextTask``,
the base every text task shares."""
