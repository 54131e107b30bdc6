-- Messages a user reads in any language: their key and values (backend/messages.py), beside the
-- English text the columns already hold. NULL where a text has no key (a name a user typed, a
-- message from an older version): it is shown as it is.
ALTER TABLE jobs ADD COLUMN message_i18n jsonb;             -- jobs.message
ALTER TABLE jobs ADD COLUMN title_i18n jsonb;               -- jobs.title
ALTER TABLE ingestion_files ADD COLUMN message_i18n jsonb;  -- ingestion_files.message
