-- A job's title in any language: its key and values (backend/messages.py), beside the English
-- title in jobs.title. NULL for a title that has no key (a name a user typed, for instance).
ALTER TABLE jobs ADD COLUMN title_i18n jsonb;
