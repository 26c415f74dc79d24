-- Investigations: one row a case, the whole case as JSON (skyfence.Case),
-- with the fields it is selected by in columns.
CREATE TABLE cases (
	id          text PRIMARY KEY,
	state       text NOT NULL CHECK (state IN ('open', 'investigating', 'actioned', 'closed')),
	terminal_id text NOT NULL,
	account_id  text NOT NULL,
	assignee    text NOT NULL,
	label       text NOT NULL,
	updated_at  bigint NOT NULL,
	revision    bigint NOT NULL,
	doc         json NOT NULL
);

-- FindCases: most recently updated first, all or by one of the columns.
CREATE INDEX cases_updated ON cases (updated_at, id);
CREATE INDEX cases_state ON cases (state, updated_at, id);
CREATE INDEX cases_terminal ON cases (terminal_id, updated_at, id);
CREATE INDEX cases_assignee ON cases (assignee, updated_at, id);
CREATE INDEX cases_account ON cases (account_id, updated_at, id);
