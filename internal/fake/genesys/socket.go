package genesys

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// writeTimeout bounds one WebSocket write.
const writeTimeout = 5 * time.Second

// socketConn is a connected notification WebSocket.
type socketConn struct {
	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
}

func (sc *socketConn) send(msg []byte) error {
	ctx, cancel := context.WithTimeout(sc.ctx, writeTimeout)
	defer cancel()
	return sc.conn.Write(ctx, websocket.MessageText, msg)
}

// close closes the socket normally with a reason.
func (sc *socketConn) close(why string) {
	sc.cancel()
	_ = sc.conn.Close(websocket.StatusNormalClosure, why)
}

// serveSocket is the WebSocket at a channel's connectUri. A second socket
// on a channel disconnects the first.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/channels/")
	s.mu.Lock()
	c, ok := s.channelLocked(id)
	s.mu.Unlock()
	if !ok {
		writeError(w, r, http.StatusNotFound, "not.found", "Channel "+id+" not found")
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	sc := &socketConn{conn: conn, ctx: ctx, cancel: cancel}
	s.mu.Lock()
	if _, still := s.channels[id]; !still {
		s.mu.Unlock()
		sc.close("channel removed")
		return
	}
	if old := c.sock; old != nil {
		go old.close("another socket connected to the channel")
	}
	c.sock = sc
	c.lastUsed = s.clock.Now()
	c.last = map[string]pushed{} // a new socket gets the current figures on the next push
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if c.sock == sc {
			c.sock = nil
		}
		s.mu.Unlock()
		sc.close("")
	}()
	if s.opts.HeartbeatInterval > 0 {
		go s.heartbeat(sc)
	}
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var m struct {
			Message       string `json:"message"`
			CorrelationID string `json:"correlationId"`
		}
		_ = json.Unmarshal(data, &m)
		var reply []byte
		switch m.Message {
		case "ping":
			reply = envelope("channel.metadata", map[string]string{"message": "pong"})
		case "subscribe":
			reply, _ = json.Marshal(map[string]any{"correlationId": m.CorrelationID, "topics": []string{}, "result": "400",
				"status": "error", "message": "Subscribing over the socket is not supported by this fake; use the REST API."})
		default:
			continue
		}
		if err := sc.send(reply); err != nil {
			return
		}
	}
}

// heartbeat sends the channel.metadata heartbeat every HeartbeatInterval
// of the clock while heartbeats are on.
func (s *Server) heartbeat(sc *socketConn) {
	for {
		if err := s.clock.Sleep(sc.ctx, s.opts.HeartbeatInterval); err != nil {
			return
		}
		s.mu.Lock()
		on := s.heartbeats
		s.mu.Unlock()
		if on {
			if err := sc.send(envelope("channel.metadata", map[string]string{"message": "WebSocket Heartbeat"})); err != nil {
				return
			}
		}
	}
}

// sockets returns the connected sockets.
func (s *Server) sockets() []*socketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*socketConn
	for _, c := range s.channels {
		if c.sock != nil {
			out = append(out, c.sock)
		}
	}
	return out
}

// StopHeartbeats turns heartbeats off (true) or back on (false).
func (s *Server) StopHeartbeats(stop bool) {
	s.mu.Lock()
	s.heartbeats = !stop
	s.mu.Unlock()
}

// SendSocketClosing sends v2.system.socket_closing to every socket, the
// warning Genesys gives about a minute before closing for maintenance.
func (s *Server) SendSocketClosing() {
	msg := envelope("v2.system.socket_closing", map[string]string{"message": "Socket closing"})
	for _, sc := range s.sockets() {
		_ = sc.send(msg)
	}
}

// CloseSockets closes every socket with a normal closing handshake.
func (s *Server) CloseSockets() {
	for _, sc := range s.sockets() {
		sc.close("server closing")
	}
}

// DropSockets cuts every socket without a closing handshake.
func (s *Server) DropSockets() {
	for _, sc := range s.sockets() {
		sc.cancel()
		_ = sc.conn.CloseNow()
	}
}

// outgoing is a message to push to a socket.
type outgoing struct {
	sc  *socketConn
	msg []byte
}

// deliver pushes messages outside the lock.
func (s *Server) deliver(out []outgoing) {
	for _, o := range out {
		_ = o.sc.send(o.msg)
	}
}

// Publish pushes the current figures of subscribed queues that changed,
// without stepping the simulation.
func (s *Server) Publish() {
	s.mu.Lock()
	s.expireLocked()
	out := s.eventsLocked()
	s.mu.Unlock()
	s.deliver(out)
}
