-- Core of the lab's schema: extensions, user-saved settings and stored artifacts.
-- Vector tables of corpus indexes are created by LlamaIndex's PGVectorStore (one table per index,
-- named in corpus_indexes.table_name); everything else lives in these numbered migrations.
CREATE EXTENSION IF NOT EXISTS vector;

-- Values a user saved on the Settings page; they override the environment.
CREATE TABLE settings (
    name        text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Artifacts (uploaded files, adapters, reports) behind one storage interface. Small and medium
-- artifacts live here, so a worker on another machine can read them; large weights may live in a
-- shared folder, recorded as a location instead of content.
CREATE TABLE artifacts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind        text NOT NULL,
    name        text NOT NULL,
    size_bytes  bigint NOT NULL,
    sha256      text NOT NULL,
    content     bytea,
    location    text,
    metadata    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((content IS NULL) <> (location IS NULL))
);
CREATE INDEX artifacts_kind_idx ON artifacts (kind);
