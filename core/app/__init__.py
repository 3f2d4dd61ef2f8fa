"""The web demo (``attrix app``): what it does, free of Streamlit (``logic``), and the Streamlit page (``page``)."""
