package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leadership: of the processes sharing a store, one at a time runs the
// scheduled work (the cluster's leader). A candidate holds the leadership
// while it holds a session advisory lock on a connection of its own, opened
// for that alone (not one of the pool's, which are shared and recycled):
// the lock lives as long as that session, so a leader whose process dies,
// whose connection is cut or terminated, or that stops answering, loses it,
// and the server grants it to the next candidate that asks.
//
// The lock's key is derived from the schema the store's tables are in
// (current_schema()), so that stores in several schemas of one database
// (tests, several clusters) elect a leader each.

const (
	// leaderEvery is how often a candidate asks for the lock and a leader
	// checks its connection (a round trip): another candidate takes over
	// within about this long after the leader's session ends.
	leaderEvery = time.Second
	// leaderIdle is the leader connection's idle_session_timeout: a leader
	// whose checks stop reaching the server (a hung process, a network
	// partition) has its session ended, and the lock released, after this
	// long. It must be well above leaderEvery.
	leaderIdle = 10 * time.Second
	// leaderRejoin is how long a candidate that lost the leadership waits
	// before asking again, so that another candidate, whose connection was
	// not the one lost, takes over first.
	leaderRejoin = 5 * leaderEvery
)

// leaderLock takes the lock: true if this session holds it now.
const leaderLock = `SELECT pg_try_advisory_lock(hashtextextended('skyfence.leader:' || current_schema(), 0))`

// Leader is one candidate for the leadership of a store's cluster. It
// campaigns in a goroutine of its own from Campaign until Close.
type Leader struct {
	cfg     *pgx.ConnConfig
	log     *slog.Logger
	leading atomic.Bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Campaign starts a candidate for the leadership of the processes on this
// store. name identifies it in the server's pg_stat_activity, as the
// application_name "skyfence leader <name>". Leading reports whether it
// leads; Close ends the campaign and hands the leadership over at once.
func (db *DB) Campaign(name string) *Leader {
	cfg := db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "skyfence leader " + name
	ctx, cancel := context.WithCancel(context.Background())
	l := &Leader{cfg: cfg, log: db.logger.With("leader", name), cancel: cancel, done: make(chan struct{})}
	go l.run(ctx)
	return l
}

// Leading reports whether this candidate holds the leadership now. A
// leader learns that it lost its connection only at its next check, so
// for up to leaderEvery after another candidate took over both may report
// true: the scheduled work must stay safe to run twice (it is: every
// update it makes is a compare-and-set).
func (l *Leader) Leading() bool { return l.leading.Load() }

// Close ends the campaign: a leader closes its connection, which releases
// the lock, so another candidate takes over within leaderEvery.
func (l *Leader) Close() error {
	l.cancel()
	<-l.done
	return nil
}

func (l *Leader) run(ctx context.Context) {
	defer close(l.done)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			l.step(false, "stopped", nil)
			conn.Close(context.Background())
		}
	}()
	t := time.NewTicker(leaderEvery)
	defer t.Stop()
	var wait time.Time // no asking for the lock before
	for {
		var lost bool
		conn, lost = l.check(ctx, conn, time.Now().After(wait))
		if lost {
			wait = time.Now().Add(leaderRejoin)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check connects if need be, then checks the leader's connection or, if
// ask, asks for the lock. It returns the connection (nil if it failed) and
// whether the leadership was lost.
func (l *Leader) check(ctx context.Context, conn *pgx.Conn, ask bool) (*pgx.Conn, bool) {
	ctx, cancel := context.WithTimeout(ctx, leaderIdle/2)
	defer cancel()
	var err error
	if conn == nil {
		if !ask {
			return nil, false
		}
		if conn, err = pgx.ConnectConfig(ctx, l.cfg); err != nil {
			l.log.Debug("postgres: leader election: connecting", "err", err)
			return nil, false
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("SET idle_session_timeout = %d", leaderIdle.Milliseconds())); err != nil {
			l.log.Warn("postgres: leader election: no idle_session_timeout (PostgreSQL 14 or later): a hung leader keeps the lock until its connection ends", "err", err)
		}
	}
	if l.leading.Load() {
		if err = conn.Ping(ctx); err == nil {
			return conn, false
		}
		l.step(false, "connection lost", err)
		conn.Close(context.Background())
		return nil, true
	}
	if !ask {
		return conn, false
	}
	var got bool
	if err = conn.QueryRow(ctx, leaderLock).Scan(&got); err != nil {
		l.log.Debug("postgres: leader election: asking for the lock", "err", err)
		conn.Close(context.Background())
		return nil, false
	}
	if got {
		l.step(true, "lock taken", nil)
	}
	return conn, false
}

// step records and logs a change of leadership.
func (l *Leader) step(leading bool, why string, err error) {
	if l.leading.Swap(leading) == leading {
		return
	}
	if leading {
		l.log.Info("postgres: this process leads the cluster's scheduled work", "why", why)
		return
	}
	if err == nil {
		l.log.Info("postgres: this process no longer leads the cluster's scheduled work", "why", why)
		return
	}
	l.log.Warn("postgres: this process no longer leads the cluster's scheduled work", "why", why, "err", err)
}
