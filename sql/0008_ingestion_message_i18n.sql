-- An uploaded file's result message in any language: its key and values (backend/messages.py),
-- beside the English text in ingestion_files.message. NULL for a message that has no key.
ALTER TABLE ingestion_files ADD COLUMN message_i18n jsonb;
