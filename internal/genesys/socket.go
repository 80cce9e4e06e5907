package genesys

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// MessageKind classifies the messages of a notification WebSocket.
type MessageKind int

// Kinds of WebSocket message.
const (
	// KindEvent is a notification of a subscribed topic.
	KindEvent MessageKind = iota
	// KindHeartbeat is the server's heartbeat (channel.metadata
	// "WebSocket Heartbeat", about every 30 s).
	KindHeartbeat
	// KindPong answers Socket.Ping.
	KindPong
	// KindSocketClosing warns that the server will close the socket in
	// about a minute (v2.system.socket_closing): reconnect.
	KindSocketClosing
	// KindSystem is another channel.metadata or v2.system.* message.
	KindSystem
	// KindReply is a message without a topic, such as the answer to a
	// subscription sent over the socket.
	KindReply
)

// String names the kind.
func (k MessageKind) String() string {
	switch k {
	case KindEvent:
		return "event"
	case KindHeartbeat:
		return "heartbeat"
	case KindPong:
		return "pong"
	case KindSocketClosing:
		return "socket_closing"
	case KindSystem:
		return "system"
	case KindReply:
		return "reply"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Topics of system messages.
const (
	TopicMetadata      = "channel.metadata"
	TopicSocketClosing = "v2.system.socket_closing"
)

// Message is one message of a notification WebSocket.
type Message struct {
	Kind          MessageKind
	Topic         string
	CorrelationID string
	// Body is the eventBody.
	Body json.RawMessage
	// Raw is the whole message, for ParseEvent or Accumulator.Parse.
	Raw []byte
}

// ParseMessage classifies one WebSocket message.
func ParseMessage(raw []byte) (Message, error) {
	var env struct {
		TopicName string          `json:"topicName"`
		EventBody json.RawMessage `json:"eventBody"`
		Metadata  struct {
			CorrelationID string `json:"CorrelationId"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return Message{}, fmt.Errorf("genesys: notification message is not JSON: %w", err)
	}
	m := Message{Topic: env.TopicName, CorrelationID: env.Metadata.CorrelationID, Body: env.EventBody, Raw: raw}
	switch {
	case env.TopicName == "":
		m.Kind = KindReply
	case env.TopicName == TopicSocketClosing:
		m.Kind = KindSocketClosing
	case env.TopicName == TopicMetadata:
		var b struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(env.EventBody, &b)
		switch {
		case strings.EqualFold(b.Message, "pong"):
			m.Kind = KindPong
		case strings.Contains(strings.ToLower(b.Message), "heartbeat"):
			m.Kind = KindHeartbeat
		default:
			m.Kind = KindSystem
		}
	case strings.HasPrefix(env.TopicName, "v2.system."):
		m.Kind = KindSystem
	default:
		m.Kind = KindEvent
	}
	return m, nil
}

// maxMessage bounds one WebSocket message.
const maxMessage = 4 << 20

// Socket is a connection to a notification channel. Read from one
// goroutine; Ping and Close may be called from another.
type Socket struct {
	conn *websocket.Conn
}

// Dial connects to a channel's ConnectURI. No credential is sent: the
// channel id in the URL is the capability. Genesys keeps one socket per
// channel; connecting again disconnects the previous socket.
func Dial(ctx context.Context, connectURI string, client *http.Client) (*Socket, error) {
	conn, resp, err := websocket.Dial(ctx, connectURI, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("genesys: connecting to the notification channel: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("genesys: connecting to the notification channel: %w", err)
	}
	conn.SetReadLimit(maxMessage)
	return &Socket{conn: conn}, nil
}

// Dial connects to a channel with the client's HTTP client.
func (c *Client) Dial(ctx context.Context, ch Channel) (*Socket, error) {
	return Dial(ctx, ch.ConnectURI, c.http)
}

// Read returns the next message. Any error means the socket is done.
func (s *Socket) Read(ctx context.Context) (Message, error) {
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			return Message{}, fmt.Errorf("genesys: reading the notification socket: %w", err)
		}
		if typ != websocket.MessageText {
			continue
		}
		return ParseMessage(data)
	}
}

// Ping sends the documented application ping, {"message":"ping"}; the
// server answers with a KindPong message.
func (s *Socket) Ping(ctx context.Context) error {
	if err := s.conn.Write(ctx, websocket.MessageText, []byte(`{"message":"ping"}`)); err != nil {
		return fmt.Errorf("genesys: pinging the notification socket: %w", err)
	}
	return nil
}

// Close closes the socket normally.
func (s *Socket) Close() error {
	return s.conn.Close(websocket.StatusNormalClosure, "")
}

// CloseNow closes the connection without the closing handshake.
func (s *Socket) CloseNow() error { return s.conn.CloseNow() }
