-- GET /v1/alerts?explained=: whether the incident an alert carries
-- explains it (detect.Alert.Explained; an alert raised in an incident's
-- area may not be), copied from its data into a column (filled in for the
-- alerts stored before), and an index that orders as the listing does.
ALTER TABLE alerts ADD COLUMN explained INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET explained = coalesce(json_extract(CAST(data AS TEXT), '$.explained'), 0) = 1
	WHERE json_valid(CAST(data AS TEXT)) AND json_type(CAST(data AS TEXT)) = 'object';
CREATE INDEX alerts_explained ON alerts (explained, last_seen, id);
