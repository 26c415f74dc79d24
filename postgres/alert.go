package postgres

import (
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlstore"
)

// alertColumnList is sqlstore.AlertColumns as a list, for COPY.
var alertColumnList = columnList(sqlstore.AlertColumns)

// SaveAlerts upserts the alerts by id: COPY into a temporary table, then
// one INSERT ... ON CONFLICT from it, in one transaction. Of two alerts
// with one id in the batch the later wins. Data is stored byte for byte
// (empty data reads back nil). EINVALID (and nothing written) for an alert
// sqlstore.CheckAlert refuses.
func (db *DB) SaveAlerts(ctx context.Context, alerts []*skyfence.AlertRecord) error {
	if err := sqlstore.CheckAlerts(alerts); err != nil {
		return err
	}
	batch := lastOfEach(alerts, func(a *skyfence.AlertRecord) string { return a.ID })
	return db.upsert(ctx, fmt.Sprintf("save %d alerts", len(batch)), "alerts", sqlstore.AlertColumns, alertColumnList,
		sqlstore.AlertUpsert, len(batch), func(i int) ([]any, error) { return sqlstore.AlertValues(nil, batch[i]), nil })
}

// incidentColumnList is sqlstore.IncidentColumns as a list, for COPY.
var incidentColumnList = columnList(sqlstore.IncidentColumns)

// SaveIncidents upserts the incidents by id as SaveAlerts does; of two
// with one id in the batch the later wins, and a stored incident that ends
// later than the one saved stays. EINVALID (and nothing written) for an
// incident sqlstore.CheckIncident refuses.
func (db *DB) SaveIncidents(ctx context.Context, incidents []*skyfence.Incident) error {
	if err := sqlstore.CheckIncidents(incidents); err != nil {
		return err
	}
	batch := lastOfEach(incidents, func(i *skyfence.Incident) string { return i.ID })
	return db.upsert(ctx, fmt.Sprintf("save %d incidents", len(batch)), "incidents", sqlstore.IncidentColumns, incidentColumnList,
		sqlstore.IncidentUpsert, len(batch), func(i int) ([]any, error) { return sqlstore.IncidentValues(nil, batch[i]), nil })
}
