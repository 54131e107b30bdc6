-- The job system: long work (ingestion, training, evaluation) runs in worker processes, never in a
-- Streamlit script run. `jobs` is the lab's own record of each job (what pages show and poll);
-- procrastinate's tables (applied by the migration runner) only carry the "run job N" messages
-- that workers claim with FOR UPDATE SKIP LOCKED. One procrastinate job is deferred per attempt.

CREATE TABLE jobs (
    id                    bigserial PRIMARY KEY,
    kind                  text NOT NULL,
    title                 text NOT NULL,
    queue                 text NOT NULL DEFAULT 'default',
    status                text NOT NULL DEFAULT 'queued' CHECK (status IN (
                              'queued', 'running', 'cancelling', 'succeeded', 'failed',
                              'cancelled', 'stalled')),
    params                jsonb NOT NULL DEFAULT '{}',
    -- progress of the current attempt, written (throttled) by the handler
    step                  double precision NOT NULL DEFAULT 0,
    total                 double precision,
    unit                  text,
    rate                  double precision,          -- steps per second
    eta_seconds           double precision,
    message               text,
    result                jsonb,
    error                 text,                      -- what the user sees
    error_detail          text,                      -- traceback, for logs and bug reports
    state                 jsonb NOT NULL DEFAULT '{}', -- small resume state (JobContext.save_state)
    cancel_requested      boolean NOT NULL DEFAULT false,
    attempts              integer NOT NULL DEFAULT 1, -- attempts enqueued so far (1 = first run)
    -- no foreign key: procrastinate may delete its finished rows; this is only a pointer
    procrastinate_job_id  bigint,
    worker                text,                      -- job_workers.id of the worker running it
    created_at            timestamptz NOT NULL DEFAULT now(),
    started_at            timestamptz,               -- start of the current attempt
    finished_at           timestamptz,
    heartbeat_at          timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_status_idx ON jobs (status);
CREATE INDEX jobs_kind_created_idx ON jobs (kind, created_at DESC);
CREATE INDEX jobs_procrastinate_job_idx ON jobs (procrastinate_job_id);
CREATE INDEX jobs_active_heartbeat_idx ON jobs (heartbeat_at) WHERE status IN ('running', 'cancelling');

-- Progress history (for curves such as training loss) and status changes worth showing.
CREATE TABLE job_events (
    id        bigserial PRIMARY KEY,
    job_id    bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    ts        timestamptz NOT NULL DEFAULT now(),
    attempt   integer NOT NULL,
    step      double precision,
    total     double precision,
    message   text,
    metrics   jsonb
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);

-- Live worker processes (on this or other machines), for the status strip and stall detection.
CREATE TABLE job_workers (
    id          text PRIMARY KEY,
    host        text NOT NULL,
    pid         integer NOT NULL,
    queues      text[] NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
