"""The corpus: uploaded files → parsed documents → chunks → embeddings → pgvector.

The document-parsing front is pure (bytes in, dataclasses out, no database, nothing written to disk):

- ``readers``    ``parse_upload(name, data, limits)``: one ``FileResult`` per file (a ZIP expands to
                 one per member); bad input becomes a per-file message, never an exception.
- ``documents``  the dataclasses (``ParsedDocument``, ``ParsedSection``, ``FileResult``,
                 ``UploadLimits``) and the text clean-up every reader shares.
- ``archive``    safe ZIP expansion (path traversal, ZIP bombs, nested archives: one level only).
- ``formats/``   one reader per format, registered by kind (pdf, docx, markdown, txt, html, csv, jsonl).
- ``chunking``   ``ChunkingConfig`` and ``chunk_document``: sizes in the embedding model's own tokens.
- ``sensitive``  ``scan`` / ``redact``: e-mails, phones, IBANs, cards, DNI/NIE, SSNs, IP addresses
                 (checksums and context rules in ``sensitive_rules``).

This package file imports nothing so that ``import backend.corpus.<module>`` stays cheap.
"""
