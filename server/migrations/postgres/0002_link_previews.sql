-- Link previews on messages (JSON, as sent).
ALTER TABLE messages ADD COLUMN link_preview TEXT;
