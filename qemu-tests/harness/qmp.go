package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// errQMPClosed marks a command that got no reply because the QMP connection ended.
var errQMPClosed = errors.New("qmp connection closed")

// Event is a QMP event such as SHUTDOWN, with its data, as QEMU sent it.
type Event struct {
	Name string          `json:"event"`
	Data json.RawMessage `json:"data"`
}

// qmpMessage is any message QEMU sends on QMP.
type qmpMessage struct {
	ID     uint64          `json:"id"`
	Event  string          `json:"event"`
	Data   json.RawMessage `json:"data"`
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
}

// qmp is a QMP client for one connection: one command at a time, events recorded.
type qmp struct {
	conn    net.Conn
	cmdMu   sync.Mutex
	lastID  uint64          // of the last command sent; guarded by cmdMu
	replies chan qmpMessage // closed when the connection ends

	mu     sync.Mutex
	events []Event
}

// newQMP reads QEMU's greeting on conn, starts reading replies and events, and leaves
// capabilities negotiation mode.
func newQMP(ctx context.Context, conn net.Conn) (*qmp, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
	}
	dec := json.NewDecoder(conn)
	var greeting struct {
		QMP json.RawMessage `json:"QMP"`
	}
	if err := dec.Decode(&greeting); err != nil || greeting.QMP == nil {
		return nil, fmt.Errorf("read qmp greeting: %v", errors.Join(err, errors.New("no greeting")))
	}
	_ = conn.SetReadDeadline(time.Time{})
	q := &qmp{conn: conn, replies: make(chan qmpMessage, 16)}
	go q.read(dec)
	if _, err := q.execute(ctx, "qmp_capabilities", nil); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *qmp) read(dec *json.Decoder) {
	defer close(q.replies)
	for {
		var m qmpMessage
		if err := dec.Decode(&m); err != nil {
			return
		}
		if m.Event != "" {
			q.mu.Lock()
			q.events = append(q.events, Event{Name: m.Event, Data: m.Data})
			q.mu.Unlock()
			continue
		}
		q.replies <- m
	}
}

// execute runs a QMP command and returns its "return" value.
func (q *qmp) execute(ctx context.Context, command string, args any) (json.RawMessage, error) {
	q.cmdMu.Lock()
	defer q.cmdMu.Unlock()
	q.lastID++
	id := q.lastID
	req := map[string]any{"execute": command, "id": id}
	if args != nil {
		req["arguments"] = args
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = q.conn.SetWriteDeadline(dl)
	}
	if _, err := q.conn.Write(append(data, '\n')); err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	for {
		select {
		case m, ok := <-q.replies:
			if !ok {
				return nil, fmt.Errorf("qmp %s: %w", command, errQMPClosed)
			}
			if m.ID != id {
				continue // the late reply to a command that timed out
			}
			if m.Error != nil {
				return nil, fmt.Errorf("qmp %s: %s: %s", command, m.Error.Class, m.Error.Desc)
			}
			return m.Return, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("qmp %s: %w", command, ctx.Err())
		}
	}
}

// recorded returns the events received so far.
func (q *qmp) recorded() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Event(nil), q.events...)
}

func (q *qmp) close() error {
	return q.conn.Close()
}
