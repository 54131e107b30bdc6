-- Corpora for the RAG arm: named collections of documents, their indexes and ingestion results.
-- The chunks and their vectors are NOT here: each corpus index has its own LlamaIndex PGVectorStore
-- table (`data_<corpus_indexes.table_name>`, created and dropped by backend/corpus/index.py), so no
-- search ever filters across corpora and each table has one dimension and one text-search language.

CREATE TABLE corpora (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL UNIQUE CHECK (length(btrim(name)) > 0),
    language     text NOT NULL CHECK (language IN ('en', 'es', 'mixed')),
    description  text NOT NULL DEFAULT '',
    -- bumped by every change of its content (a document added, replaced or deleted)
    version      integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- A corpus index = corpus + embedding model + chunking settings -> one vector table.
CREATE TABLE corpus_indexes (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    corpus_id           uuid NOT NULL REFERENCES corpora (id) ON DELETE CASCADE,
    embed_spec          text NOT NULL,            -- e.g. bundled:all-minilm-l6-v2
    embed_name          text NOT NULL,            -- a readable model name
    dim                 integer NOT NULL CHECK (dim > 0),
    chunking            jsonb NOT NULL,           -- ChunkingConfig fields
    chunking_key        text NOT NULL,            -- ChunkingConfig.key()
    table_name          text NOT NULL UNIQUE,     -- PGVectorStore table_name (table data_<this>)
    text_search_config  text NOT NULL,            -- english / spanish / simple
    status              text NOT NULL CHECK (status IN ('building', 'ready', 'failed')),
    active              boolean NOT NULL DEFAULT false,
    error               text,
    job_id              bigint,                   -- the build job, if built by one
    build_seconds       double precision,
    created_at          timestamptz NOT NULL DEFAULT now(),
    built_at            timestamptz,
    UNIQUE (corpus_id, embed_spec, chunking_key)
);
CREATE UNIQUE INDEX corpus_indexes_one_active_idx ON corpus_indexes (corpus_id) WHERE active;

-- One row per document per corpus. A changed version of a document is ingested as a new row
-- (status 'ingesting', invisible to retrieval) and swapped in, in one transaction, for the old one.
CREATE TABLE documents (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    corpus_id    uuid NOT NULL REFERENCES corpora (id) ON DELETE CASCADE,
    name         text NOT NULL,
    kind         text NOT NULL,                   -- pdf, markdown, txt, ...
    sha256       text NOT NULL,                   -- of the parsed content: the document's key
    version      integer NOT NULL DEFAULT 1,      -- 1, then +1 for each replacement
    status       text NOT NULL CHECK (status IN ('ingesting', 'ready')),
    char_count   integer NOT NULL DEFAULT 0,
    -- the parsed text ([{text, page, section}]), so an index can be rebuilt without the file
    sections     jsonb NOT NULL DEFAULT '[]',
    metadata     jsonb NOT NULL DEFAULT '{}',
    warnings     jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX documents_ready_hash_idx ON documents (corpus_id, sha256) WHERE status = 'ready';
CREATE UNIQUE INDEX documents_ready_name_idx ON documents (corpus_id, name) WHERE status = 'ready';
CREATE INDEX documents_corpus_status_idx ON documents (corpus_id, status);

-- Sensitive data found in a document (e-mail addresses, phone numbers, IBANs, ...), per kind.
CREATE TABLE document_findings (
    document_id  uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    count        integer NOT NULL CHECK (count > 0),
    PRIMARY KEY (document_id, kind)
);

-- What happened to each uploaded file, for the Corpora page (ok or the error, per document).
CREATE TABLE ingestion_files (
    id           bigserial PRIMARY KEY,
    batch_id     uuid NOT NULL,                   -- one upload (one ingest call or job)
    corpus_id    uuid NOT NULL REFERENCES corpora (id) ON DELETE CASCADE,
    job_id       bigint,
    file_name    text NOT NULL,
    ok           boolean NOT NULL,
    message      text NOT NULL DEFAULT '',
    -- [{name, outcome: added|replaced|unchanged|failed, document_id, chunks, error}]
    documents    jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingestion_files_corpus_idx ON ingestion_files (corpus_id, id DESC);
CREATE INDEX ingestion_files_batch_idx ON ingestion_files (batch_id);
