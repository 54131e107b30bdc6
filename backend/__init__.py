"""Strategy Lab backend: services for corpora, RAG, fine-tuning and evaluation. Never imports streamlit."""
