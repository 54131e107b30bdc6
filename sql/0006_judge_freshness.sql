-- LLM-judged metrics and the freshness check.

-- One row per judging pass over an evaluation run: which judge scored it (its scores go to
-- eval_scores like the offline metrics), with what settings, how far it got and what it cost.
CREATE TABLE eval_judges (
    id              bigserial PRIMARY KEY,
    run_id          uuid NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    judge           text NOT NULL,            -- openai:<model>@<url>, or a local model spec
    metric_keys     text[] NOT NULL,
    config          jsonb NOT NULL DEFAULT '{}',  -- tokens, concurrency, timeout (never the key)
    judged          integer NOT NULL DEFAULT 0,   -- answers judged in this pass
    ok              integer NOT NULL DEFAULT 0,   -- scores with a value
    failed          integer NOT NULL DEFAULT 0,   -- scores the judge could not give (reasons in eval_scores)
    usage           jsonb NOT NULL DEFAULT '{}',  -- calls, tokens in/out, seconds
    seconds         double precision,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX eval_judges_run_idx ON eval_judges (run_id, id);

-- A freshness check: ask questions, change documents, ask again at once (and again after a
-- retrain), and time how long each strategy takes to reflect the change.
CREATE TABLE freshness_checks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL,
    corpus_id       uuid REFERENCES corpora (id) ON DELETE SET NULL,
    corpus_name     text NOT NULL,
    version_before  integer,
    version_after   integer,
    files           jsonb NOT NULL,           -- [{name, sha256, bytes, artifact_id}]
    questions       jsonb NOT NULL,           -- [{qid, question, language, reference_v1, ...}]
    strategies      jsonb NOT NULL,           -- [{key, label, kind, config}]
    retrain         jsonb,                    -- the retrain plan, NULL: no retrain
    threshold       double precision NOT NULL DEFAULT 0.5,
    status          text NOT NULL DEFAULT 'created'
                    CHECK (status IN ('created', 'running', 'finished', 'failed', 'cancelled')),
    error           text,
    job_id          bigint,
    ingest_seconds  double precision,         -- change started -> ingestion finished
    retrain_seconds double precision,         -- retrain started -> new model registered
    retrained_model_id bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX freshness_checks_created_idx ON freshness_checks (created_at DESC);

-- Every answer of every phase, with what decides whether it reflects the new version.
CREATE TABLE freshness_answers (
    check_id        uuid NOT NULL REFERENCES freshness_checks (id) ON DELETE CASCADE,
    phase           text NOT NULL CHECK (phase IN ('before', 'after_ingest', 'after_retrain')),
    strategy        text NOT NULL,
    qid             text NOT NULL,
    model           text,                     -- the model that answered (fine-tuned: its id)
    answer          text NOT NULL DEFAULT '',
    contexts        jsonb,                    -- NULL: closed book
    sim_v1          double precision,         -- similarity of the answer to reference_v1
    sim_v2          double precision,
    fact_v1         boolean,                  -- the answer states a fact only v1 has
    fact_v2         boolean,
    context_v1      boolean,                  -- the retrieved passages hold v1 evidence (NULL: closed book)
    context_v2      boolean,
    answer_reflects boolean,
    reflects        boolean,                  -- by the strategy's criterion (contexts when it retrieves)
    latency_s       double precision,
    asked_at        timestamptz NOT NULL DEFAULT now(),
    since_change_s  double precision,         -- NULL before the change
    error           text,
    PRIMARY KEY (check_id, phase, strategy, qid)
);

-- The timeline: what happened when.
CREATE TABLE freshness_events (
    check_id        uuid NOT NULL REFERENCES freshness_checks (id) ON DELETE CASCADE,
    seq             integer NOT NULL,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    elapsed_s       double precision NOT NULL,  -- since the check started
    event           text NOT NULL,
    phase           text,
    strategy        text,
    detail          jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (check_id, seq)
);
