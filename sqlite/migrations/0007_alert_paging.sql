-- Alerts paged and filtered (GET /v1/alerts): the region of the last
-- firing fix and the GNSS interference incident an alert carries, copied
-- from its data into columns (filled in for the alerts stored before), and
-- an index for each filter that orders as the listing does (last_seen,
-- then id, descending).
ALTER TABLE alerts ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN incident TEXT NOT NULL DEFAULT '';
UPDATE alerts SET region = coalesce(json_extract(CAST(data AS TEXT), '$.region'), ''),
	incident = coalesce(json_extract(CAST(data AS TEXT), '$.incident'), '')
	WHERE json_valid(CAST(data AS TEXT)) AND json_type(CAST(data AS TEXT)) = 'object';
DROP INDEX alerts_terminal;
CREATE INDEX alerts_terminal ON alerts (terminal_id, last_seen, id);
CREATE INDEX alerts_detector ON alerts (detector, last_seen, id);
CREATE INDEX alerts_severity ON alerts (severity, last_seen, id);
CREATE INDEX alerts_region ON alerts (region, last_seen, id);
CREATE INDEX alerts_incident ON alerts (incident, last_seen, id);

-- A GNSS interference incident (skyfence.Incident), upserted by id as
-- detection extends and closes it; times in Unix nanoseconds.
CREATE TABLE incidents (
	id        TEXT PRIMARY KEY,
	kind      TEXT NOT NULL,
	state     TEXT NOT NULL,
	start_at  INTEGER NOT NULL,
	end_at    INTEGER NOT NULL,
	opened_at INTEGER NOT NULL,
	min_lat   REAL NOT NULL,
	min_lon   REAL NOT NULL,
	max_lat   REAL NOT NULL,
	max_lon   REAL NOT NULL,
	cells     INTEGER NOT NULL,
	terminals INTEGER NOT NULL
) STRICT;

-- FindIncidents: newest first, all or in one state.
CREATE INDEX incidents_start ON incidents (start_at, id);
CREATE INDEX incidents_state ON incidents (state, start_at, id);
