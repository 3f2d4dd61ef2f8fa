"""Path-integration maths: where in the model attributions are taken (points), the shared-forward path that serves
every target from one pass per chunk of steps, adaptive steps, and how rows are chunked and batched; and, for the
faithfulness metrics, scoring inputs with features removed and ranking features by their attributions."""
