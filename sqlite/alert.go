package sqlite

import (
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlstore"
)

// SaveAlerts upserts the alerts by id in one write transaction with one
// prepared statement; of two alerts with one id in the batch the later
// wins. Data is stored byte for byte (empty data reads back nil). EINVALID
// (and nothing written) for an alert sqlstore.CheckAlert refuses.
func (db *DB) SaveAlerts(ctx context.Context, alerts []*skyfence.AlertRecord) error {
	if err := sqlstore.CheckAlerts(alerts); err != nil {
		return err
	}
	return db.upsert(ctx, "save alerts", `INSERT INTO alerts (`+sqlstore.AlertColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `+sqlstore.AlertUpsert, len(alerts),
		func(dst []any, i int) []any { return sqlstore.AlertValues(dst, alerts[i]) },
		func(i int) string { return fmt.Sprintf("save alert %q", alerts[i].ID) })
}

// SaveIncidents upserts the incidents by id in one write transaction, as
// SaveAlerts; a stored incident that ends later than the one saved stays.
// EINVALID (and nothing written) for an incident sqlstore.CheckIncident
// refuses.
func (db *DB) SaveIncidents(ctx context.Context, incidents []*skyfence.Incident) error {
	if err := sqlstore.CheckIncidents(incidents); err != nil {
		return err
	}
	return db.upsert(ctx, "save incidents", `INSERT INTO incidents (`+sqlstore.IncidentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `+sqlstore.IncidentUpsert, len(incidents),
		func(dst []any, i int) []any { return sqlstore.IncidentValues(dst, incidents[i]) },
		func(i int) string { return fmt.Sprintf("save incident %q", incidents[i].ID) })
}
