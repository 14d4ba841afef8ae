package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeQEMU answers QMP on conn: the greeting, then every command with an event first, an
// error for "fail", no reply for "hang", and a return value otherwise.
func fakeQEMU(conn net.Conn) {
	defer conn.Close()
	fmt.Fprintln(conn, `{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}}, "capabilities": []}}`)
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		var req struct {
			Execute string `json:"execute"`
			ID      uint64 `json:"id"`
		}
		if json.Unmarshal(sc.Bytes(), &req) != nil {
			return
		}
		switch req.Execute {
		case "hang":
			continue
		case "fail":
			fmt.Fprintf(conn, `{"id": %d, "error": {"class": "GenericError", "desc": "it failed"}}`+"\n", req.ID)
		case "quit":
			fmt.Fprintf(conn, `{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}`+"\n")
			fmt.Fprintf(conn, `{"id": %d, "return": {}}`+"\n", req.ID)
			return
		default:
			fmt.Fprintf(conn, `{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "TICK"}`+"\n")
			fmt.Fprintf(conn, `{"id": %d, "return": {"status": "running", "for": %q}}`+"\n", req.ID, req.Execute)
		}
	}
}

func TestQMP(t *testing.T) {
	client, server := net.Pipe()
	go fakeQEMU(server)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := newQMP(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()

	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := q.execute(short, "hang", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: %v", err)
	}
	ret, err := q.execute(ctx, "query-status", nil)
	if err != nil || !strings.Contains(string(ret), `"for": "query-status"`) {
		t.Errorf("query-status: %s %v", ret, err)
	}
	if _, err := q.execute(ctx, "fail", nil); err == nil || !strings.Contains(err.Error(), "GenericError: it failed") {
		t.Errorf("fail: %v", err)
	}
	if _, err := q.execute(ctx, "quit", nil); err != nil {
		t.Errorf("quit: %v", err)
	}
	if _, err := q.execute(ctx, "query-status", nil); !errors.Is(err, errQMPClosed) && err == nil {
		t.Errorf("after quit: %v, want an error", err)
	}
	var names []string
	for _, e := range q.recorded() {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "TICK TICK SHUTDOWN" {
		t.Errorf("events %q, want the ticks of capabilities and query-status, then SHUTDOWN", got)
	}
}
