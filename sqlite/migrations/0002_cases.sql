-- Investigations: one row a case, the whole case as JSON (skyfence.Case),
-- with the fields it is selected by in columns.
CREATE TABLE cases (
	id          TEXT PRIMARY KEY,
	state       TEXT NOT NULL CHECK (state IN ('open', 'investigating', 'actioned', 'closed')),
	terminal_id TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	assignee    TEXT NOT NULL,
	label       TEXT NOT NULL,
	updated_at  INTEGER NOT NULL,
	revision    INTEGER NOT NULL,
	doc         TEXT NOT NULL CHECK (json_valid(doc))
) STRICT;

-- FindCases: most recently updated first, all or by one of the columns.
CREATE INDEX cases_updated ON cases (updated_at, id);
CREATE INDEX cases_state ON cases (state, updated_at, id);
CREATE INDEX cases_terminal ON cases (terminal_id, updated_at, id);
CREATE INDEX cases_assignee ON cases (assignee, updated_at, id);
CREATE INDEX cases_account ON cases (account_id, updated_at, id);
