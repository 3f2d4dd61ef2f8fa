"""Dataset runs: a config's inputs read as rows, explained in batches, written as they finish and resumed, with a
manifest, a summary and reports, locally or on Ray."""
