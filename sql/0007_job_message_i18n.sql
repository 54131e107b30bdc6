-- A job's message in any language: its key and values (backend/messages.py), beside the English
-- text in jobs.message. NULL for a message that has no key (shown as it is).
ALTER TABLE jobs ADD COLUMN message_i18n jsonb;
