-- Reading the audit log by what it is about: the regulator's report reads
-- a period (time), the console filters by subject, actor or action, newest
-- first. Without these every such read walked the whole log.
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
