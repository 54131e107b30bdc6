-- Evaluation runs: one frozen question set, several strategies, the same metrics, side by side.
-- A run copies the questions it evaluates (eval_questions), so editing or deleting the question set
-- later never changes a finished run; it pins the corpus version and index it started with, so
-- every strategy of the run (also one added later) retrieves from the same content.
-- Answers and scores are stored per (question, strategy): a killed run resumes from what is stored.

CREATE TABLE eval_runs (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL,
    -- no foreign key: the run keeps its own copy of the questions and outlives the set
    question_set_id     bigint NOT NULL,
    question_set_name   text NOT NULL DEFAULT '',
    question_set_version integer,
    part                text NOT NULL CHECK (part IN ('held_out', 'train', 'all')),
    language            text NOT NULL CHECK (language IN ('en', 'es', 'mixed')),
    corpus_id           uuid REFERENCES corpora (id) ON DELETE SET NULL,
    corpus_name         text,
    corpus_version      integer,                  -- pinned: retrieval must see this content
    index_id            uuid,                     -- pinned index (no FK: results outlive it)
    embed_spec          text NOT NULL,            -- embedding model of semantic similarity
    metric_keys         text[] NOT NULL,
    batch_size          integer NOT NULL DEFAULT 8 CHECK (batch_size > 0),
    seed                integer NOT NULL DEFAULT 0,
    job_id              bigint,                   -- the latest job that worked on the run
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX eval_runs_created_idx ON eval_runs (created_at DESC);

CREATE TABLE eval_questions (
    run_id              uuid NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    position            integer NOT NULL,         -- order in the run, from 0
    qid                 text NOT NULL,            -- the question's id in its set (its position)
    question            text NOT NULL,
    reference           text,
    reference_contexts  jsonb NOT NULL DEFAULT '[]',
    tags                text[] NOT NULL DEFAULT '{}',
    language            text NOT NULL CHECK (language IN ('en', 'es')),
    unanswerable        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (run_id, position),
    UNIQUE (run_id, qid)
);

CREATE TABLE eval_strategies (
    run_id              uuid NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    key                 text NOT NULL,            -- unique in the run, e.g. rag, rag-2
    position            integer NOT NULL,         -- legend order
    kind                text NOT NULL,            -- base / rag / finetuned / hybrid
    label               text NOT NULL,
    config              jsonb NOT NULL,           -- the full StrategyConfig
    model_record        text,                     -- what the model resolved to (wheel, folder, endpoint)
    build_seconds       double precision,         -- one-off cost: indexing and/or training time
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, key)
);

CREATE TABLE eval_answers (
    run_id              uuid NOT NULL,
    strategy            text NOT NULL,
    position            integer NOT NULL,
    answer              text NOT NULL DEFAULT '',
    contexts            jsonb,                    -- passages given to the model; NULL = closed book
    chunk_ids           text[],
    latency_s           double precision,         -- wall time of the answer's batch (+ retrieval)
    compute_s           double precision,         -- this answer's share of that time (for cost)
    retrieval_s         double precision,
    tokens_in           integer,
    tokens_out          integer,
    error               text,                     -- generation failed: why (scores are 'failed')
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, strategy, position),
    FOREIGN KEY (run_id, strategy) REFERENCES eval_strategies (run_id, key) ON DELETE CASCADE,
    FOREIGN KEY (run_id, position) REFERENCES eval_questions (run_id, position) ON DELETE CASCADE
);

-- One Score per (question, strategy, metric): a finite value when ok, else NULL and a reason.
CREATE TABLE eval_scores (
    run_id              uuid NOT NULL,
    strategy            text NOT NULL,
    position            integer NOT NULL,
    metric              text NOT NULL,
    value               double precision,
    status              text NOT NULL CHECK (status IN ('ok', 'not_applicable', 'failed')),
    reason              text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, strategy, position, metric),
    FOREIGN KEY (run_id, strategy, position)
        REFERENCES eval_answers (run_id, strategy, position) ON DELETE CASCADE,
    CHECK ((status = 'ok') = (value IS NOT NULL)),
    -- never NaN or infinite: a score that is not a number is 'failed' with its reason
    CHECK (value IS NULL OR value NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8))
);
CREATE INDEX eval_scores_metric_idx ON eval_scores (run_id, metric);
