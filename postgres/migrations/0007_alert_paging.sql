-- Alerts paged and filtered (GET /v1/alerts): the region of the last
-- firing fix and the GNSS interference incident an alert carries, copied
-- from its data into columns (filled in for the alerts stored before: data
-- that is not a JSON object leaves them empty), and an index for each
-- filter that orders as the listing does (last_seen, then id, descending).
ALTER TABLE alerts ADD COLUMN region text NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN incident text NOT NULL DEFAULT '';
CREATE FUNCTION pg_temp.alert_field(data bytea, field text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN coalesce(convert_from(data, 'UTF8')::jsonb ->> field, '');
EXCEPTION WHEN others THEN
	RETURN '';
END $$;
UPDATE alerts SET region = pg_temp.alert_field(data, 'region'), incident = pg_temp.alert_field(data, 'incident');
DROP FUNCTION pg_temp.alert_field(bytea, text);
DROP INDEX alerts_terminal;
CREATE INDEX alerts_terminal ON alerts (terminal_id, last_seen, id);
CREATE INDEX alerts_detector ON alerts (detector, last_seen, id);
CREATE INDEX alerts_severity ON alerts (severity, last_seen, id);
CREATE INDEX alerts_region ON alerts (region, last_seen, id);
CREATE INDEX alerts_incident ON alerts (incident, last_seen, id);

-- A GNSS interference incident (skyfence.Incident), upserted by id as
-- detection extends and closes it; times in Unix nanoseconds.
CREATE TABLE incidents (
	id        text PRIMARY KEY,
	kind      text NOT NULL,
	state     text NOT NULL,
	start_at  bigint NOT NULL,
	end_at    bigint NOT NULL,
	opened_at bigint NOT NULL,
	min_lat   double precision NOT NULL,
	min_lon   double precision NOT NULL,
	max_lat   double precision NOT NULL,
	max_lon   double precision NOT NULL,
	cells     integer NOT NULL,
	terminals integer NOT NULL
);

-- FindIncidents: newest first, all or in one state.
CREATE INDEX incidents_start ON incidents (start_at, id);
CREATE INDEX incidents_state ON incidents (state, start_at, id);
