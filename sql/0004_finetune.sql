-- Fine-tuning: question sets (also used by evaluation), training datasets built from them or from a
-- corpus, and the registry of trained models with their lineage.

-- A question set belongs to a corpus and is versioned: editing one saves a new row with the same
-- name and version + 1 (parent_id points at the version it came from); old versions stay, so runs
-- and evaluations that used them keep their meaning. Each row is split into train / held-out parts,
-- reproducibly (split_seed); the held-out parts of all sets of a corpus never reach training.
CREATE TABLE question_sets (
    id                 bigserial PRIMARY KEY,
    corpus_id          uuid NOT NULL REFERENCES corpora (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(btrim(name)) > 0),
    version            integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    parent_id          bigint REFERENCES question_sets (id) ON DELETE SET NULL,
    -- upload | ragas | extractive | llm | edit
    source             text NOT NULL,
    -- how a generated set was made (generator, model, parameters); {} for uploads
    generator          jsonb NOT NULL DEFAULT '{}',
    split_seed         integer NOT NULL DEFAULT 0,
    held_out_fraction  double precision NOT NULL CHECK (held_out_fraction >= 0 AND held_out_fraction < 1),
    n_questions        integer NOT NULL,
    n_held_out         integer NOT NULL,
    corpus_version     integer,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (corpus_id, name, version)
);
CREATE INDEX question_sets_corpus_idx ON question_sets (corpus_id, name, version DESC);

CREATE TABLE questions (
    set_id              bigint NOT NULL REFERENCES question_sets (id) ON DELETE CASCADE,
    position            integer NOT NULL,
    question            text NOT NULL CHECK (length(btrim(question)) > 0),
    reference           text NOT NULL DEFAULT '',
    reference_contexts  jsonb NOT NULL DEFAULT '[]',
    tags                text[] NOT NULL DEFAULT '{}',
    part                text NOT NULL CHECK (part IN ('train', 'held_out')),
    -- the question lower-cased without punctuation or repeated spaces (the overlap check's key)
    question_norm       text NOT NULL,
    -- where a generated question came from (document, chunk), or anything an upload carried
    metadata            jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (set_id, position)
);
CREATE INDEX questions_held_out_idx ON questions (set_id) WHERE part = 'held_out';

-- A training dataset: the examples a builder produced, with the parameters it was given.
-- Examples are chat conversations ({"messages": [...]}) or plain text ({"text": ...}).
CREATE TABLE training_datasets (
    id               bigserial PRIMARY KEY,
    corpus_id        uuid NOT NULL REFERENCES corpora (id) ON DELETE CASCADE,
    name             text NOT NULL,
    -- qa_pairs | continued_pretraining | paraphrase | raft
    builder          text NOT NULL,
    question_set_id  bigint REFERENCES question_sets (id) ON DELETE SET NULL,
    params           jsonb NOT NULL DEFAULT '{}',
    corpus_version   integer,
    n_examples       integer NOT NULL,
    n_chars          bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_datasets_corpus_idx ON training_datasets (corpus_id, id DESC);

CREATE TABLE training_examples (
    dataset_id  bigint NOT NULL REFERENCES training_datasets (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('chat', 'text')),
    content     jsonb NOT NULL,            -- {"messages": [...]} or {"text": "..."}
    source      jsonb NOT NULL DEFAULT '{}', -- question position, document, chunk it came from
    PRIMARY KEY (dataset_id, position)
);

-- Every fine-tune run and the model it produced, with its lineage. A row is written when the run
-- starts (status 'training') and completed when it ends; the job's progress events hold the curves
-- while it runs, the row keeps them afterwards.
CREATE TABLE trained_models (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL,
    job_id            bigint UNIQUE,       -- no foreign key: old jobs may be pruned
    status            text NOT NULL CHECK (status IN ('training', 'ready', 'failed', 'cancelled')),
    base_model        text NOT NULL,       -- the spec, e.g. bundled:smollm2-135m-instruct
    base_model_id     text NOT NULL,       -- what it resolved to (wheel/file, folder, HF id)
    method            text NOT NULL CHECK (method IN ('full', 'partial', 'adapter')),
    config            jsonb NOT NULL,      -- FinetuneConfig
    dataset_id        bigint REFERENCES training_datasets (id) ON DELETE SET NULL,
    dataset           jsonb NOT NULL DEFAULT '{}', -- builder, params, size: kept if the dataset goes
    corpus_id         uuid REFERENCES corpora (id) ON DELETE SET NULL,
    corpus_version    integer,
    trainable_params  bigint,
    total_params      bigint,
    artifact_id       uuid REFERENCES artifacts (id) ON DELETE SET NULL,
    -- peft-adapter | safetensors-full | safetensors-partial
    artifact_format   text,
    device            text,
    dtype             text,
    steps             integer,
    duration_s        double precision,
    train_loss        jsonb NOT NULL DEFAULT '[]', -- [[step, loss], ...]
    val_loss          jsonb NOT NULL DEFAULT '[]',
    guard             jsonb NOT NULL DEFAULT '{}', -- the sensitive-data decision and its counts
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
CREATE INDEX trained_models_created_idx ON trained_models (created_at DESC);
