-- GET /v1/alerts?explained=: whether the incident an alert carries
-- explains it (detect.Alert.Explained; an alert raised in an incident's
-- area may not be), copied from its data into a column (filled in for the
-- alerts stored before: data that is not a JSON object leaves it false),
-- and an index that orders as the listing does.
ALTER TABLE alerts ADD COLUMN explained boolean NOT NULL DEFAULT false;
CREATE FUNCTION pg_temp.alert_explained(data bytea) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RETURN coalesce(convert_from(data, 'UTF8')::jsonb -> 'explained' = 'true'::jsonb, false);
EXCEPTION WHEN others THEN
	RETURN false;
END $$;
UPDATE alerts SET explained = pg_temp.alert_explained(data);
DROP FUNCTION pg_temp.alert_explained(bytea);
CREATE INDEX alerts_explained ON alerts (explained, last_seen, id);
