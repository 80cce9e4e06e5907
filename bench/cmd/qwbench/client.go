package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection to the server. It writes
// requests and reads answers by hand (readAnswer), which keeps the load
// generator's own CPU use low: it shares the machine with the server.
type conn struct {
	addr    string
	timeout time.Duration
	c       net.Conn
	br      *bufio.Reader
	req     []byte
	resp    bytes.Buffer
}

func newConn(addr string, timeout time.Duration) *conn {
	return &conn{addr: addr, timeout: timeout}
}

func (c *conn) dial() error {
	if c.c != nil {
		return nil
	}
	nc, err := net.DialTimeout("tcp", c.addr, c.timeout)
	if err != nil {
		return err
	}
	c.c = nc
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 4096)
	} else {
		c.br.Reset(nc)
	}
	return nil
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// post sends one request and returns the status and body of the answer.
// sig is the X-Genesys-Cloud-Signature value ("" sends none). A transport
// error closes the connection; the next call dials again. Requests are
// never retried: a retry could be answered "duplicate".
func (c *conn) post(path, sig string, body []byte) (int, []byte, error) {
	return c.do("POST", path, sig, body)
}

func (c *conn) do(method, path, sig string, body []byte) (int, []byte, error) {
	if err := c.dial(); err != nil {
		return 0, nil, err
	}
	r := c.req[:0]
	r = append(r, method...)
	r = append(r, ' ')
	r = append(r, path...)
	r = append(r, " HTTP/1.1\r\nHost: "...)
	r = append(r, c.addr...)
	r = append(r, "\r\nUser-Agent: qwbench\r\nContent-Type: application/json\r\n"...)
	if sig != "" {
		r = append(r, "X-Genesys-Cloud-Signature: "...)
		r = append(r, sig...)
		r = append(r, "\r\n"...)
	}
	r = append(r, "Content-Length: "...)
	r = strconv.AppendInt(r, int64(len(body)), 10)
	r = append(r, "\r\n\r\n"...)
	r = append(r, body...)
	c.req = r
	_ = c.c.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.c.Write(r); err != nil {
		c.close()
		return 0, nil, err
	}
	code, closing, err := c.readAnswer()
	if err != nil {
		c.close()
		return 0, nil, err
	}
	if closing {
		c.close()
	}
	return code, c.resp.Bytes(), nil
}

// maxAnswer bounds the body of an answer.
const maxAnswer = 1 << 20

// readAnswer reads one HTTP/1.1 answer into c.resp: the status line, the
// header lines, of which it needs Content-Length and Connection, and the
// body. queuewatch's answers are small and written at once, so net/http
// always gives their length; any other framing is reported as an error
// rather than guessed at.
func (c *conn) readAnswer() (code int, closing bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(rest) < 3 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	code, err = strconv.Atoi(string(rest[:3]))
	if err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	closing = string(proto) == "HTTP/1.0"
	length := -1
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxAnswer {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closing = closing || bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("unexpected Transfer-Encoding %q", value)
		}
	}
	if length < 0 {
		return 0, false, errors.New("answer without Content-Length")
	}
	c.resp.Reset()
	c.resp.Grow(length)
	buf := c.resp.AvailableBuffer()[:length]
	if _, err := io.ReadFull(c.br, buf); err != nil {
		return 0, false, err
	}
	c.resp.Write(buf)
	return code, closing, nil
}

// answerSamples returns N of an {"status":"accepted","samples":N,...}
// answer, or -1 when the answer is not an acceptance.
func answerSamples(b []byte) int {
	if !bytes.Contains(b, []byte(`"status":"accepted"`)) {
		return -1
	}
	const key = `"samples":`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return -1
	}
	j := i + len(key)
	k := j
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	n, err := strconv.Atoi(string(b[j:k]))
	if err != nil {
		return -1
	}
	return n
}

// fleet is the simulated contact center: queue ids and names, and which
// queues are in trouble when.
type fleet struct {
	ids, names []string
	start      time.Time
	nonce      string
}

func newFleet(queues int, nonce string) *fleet {
	f := &fleet{start: time.Now(), nonce: nonce}
	for i := range queues {
		f.ids = append(f.ids, fmt.Sprintf("b3a7c0de-0000-4000-8000-%012d", i))
		f.names = append(f.names, fmt.Sprintf("Bench Queue %04d", i))
	}
	return f
}

// breachPermille is how many queues in a thousand are in trouble at any
// time; which ones changes every breachSlot. Everything else sends values
// that change no alert state, as a real contact center mostly does.
const (
	breachPermille = 1
	breachSlot     = 5 * time.Second
)

func (f *fleet) breaching(q int, now time.Time) bool {
	slot := uint64(now.Sub(f.start) / breachSlot)
	return splitmix(uint64(q)*0x9e3779b97f4a7c15^slot)%1000 < breachPermille
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// sender builds and signs events for one worker. Event ids are
// nonce-tag-worker-seq, so they are distinct across workers, phases and runs.
type sender struct {
	f      *fleet
	rng    *rand.Rand
	mac    hash.Hash
	sum    []byte
	sig    []byte
	body   []byte
	prefix string
	seq    uint64
}

func newSender(f *fleet, secret []byte, tag string, worker int) *sender {
	return &sender{
		f:      f,
		rng:    rand.New(rand.NewPCG(uint64(worker)+1, fnv64(tag))),
		mac:    hmac.New(sha256.New, secret),
		sig:    make([]byte, 0, 7+64),
		prefix: f.nonce + "-" + tag + "-" + strconv.Itoa(worker) + "-",
	}
}

// appendEvent appends one tutorial-envelope event for a random queue.
func (s *sender) appendEvent(b []byte, now time.Time) []byte {
	s.seq++
	q := s.rng.IntN(len(s.f.ids))
	bad := s.f.breaching(q, now)
	var metric string
	var v float64
	var prec int
	switch r := s.rng.IntN(10); {
	case r < 4:
		metric, prec = "service_level", 1
		v = 82 + s.rng.Float64()*17.5 // never below 80
		if bad {
			v = 55 + s.rng.Float64()*20
		}
	case r < 8:
		metric, prec = "longest_wait", 0
		v = s.rng.Float64() * 240 // never above 300
		if bad {
			v = 320 + s.rng.Float64()*400
		}
	default:
		metric, prec = "waiting", 0
		v = float64(s.rng.IntN(20))
	}
	b = append(b, `{"event_id":"`...)
	b = append(b, s.prefix...)
	b = strconv.AppendUint(b, s.seq, 10)
	b = append(b, `","event_type":"com.genesiscloud.queue.metric","source":"qwbench","timestamp":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":{"queue_id":"`...)
	b = append(b, s.f.ids[q]...)
	b = append(b, `","queue_name":"`...)
	b = append(b, s.f.names[q]...)
	b = append(b, `","media_type":"voice","metric":"`...)
	b = append(b, metric...)
	b = append(b, `","value":`...)
	b = strconv.AppendFloat(b, v, 'f', prec, 64)
	b = append(b, "}}"...)
	return b
}

// single builds a one-event body.
func (s *sender) single(now time.Time) []byte {
	s.body = s.appendEvent(s.body[:0], now)
	return s.body
}

// batch builds a JSON array of n events.
func (s *sender) batch(now time.Time, n int) []byte {
	b := append(s.body[:0], '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendEvent(b, now)
	}
	s.body = append(b, ']')
	return s.body
}

// sign returns "sha256=<hex HMAC-SHA256 of body>".
func (s *sender) sign(body []byte) string {
	s.mac.Reset()
	s.mac.Write(body)
	s.sum = s.mac.Sum(s.sum[:0])
	s.sig = append(s.sig[:0], "sha256="...)
	s.sig = hex.AppendEncode(s.sig, s.sum)
	return string(s.sig)
}

// fnv64 is FNV-1a, to seed each phase's random numbers differently.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
