"""What the tests share: tiny models built from configs, real heads trained on MiniLM, a browser, DOM parsing."""
