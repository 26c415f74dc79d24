-- When a case's scheduled action (a grace period) is due, in Unix
-- nanoseconds; 0 when none waits. The server applies what is due without
-- reading every open case.
ALTER TABLE cases ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_due ON cases (due_at) WHERE due_at > 0;
