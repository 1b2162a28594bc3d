package forward

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// maxHijackedResponse bounds what a handler may write to a hijacked
// connection of a decrypted request (moat only writes short error
// responses that way, to set a reason phrase).
const maxHijackedResponse = 1 << 20

var errHandlerAborted = errors.New("moat: handler aborted the response")

// runHandler serves req with h in a goroutine and returns the response as
// soon as h has written its header; the body streams through a pipe, with
// back-pressure, while goproxy copies it to the client. Closing the body
// makes h's further writes fail, which ends it.
func runHandler(h http.Handler, req *http.Request, log *slog.Logger) *http.Response {
	pr, pw := io.Pipe()
	w := &pipeWriter{req: req, header: http.Header{}, pr: pr, pw: pw, ready: make(chan *http.Response, 1)}
	go func() {
		defer func() {
			if v := recover(); v != nil {
				if v != http.ErrAbortHandler {
					log.Error("panic serving an intercepted request", "url", req.Host+req.URL.RequestURI(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				}
				w.abort()
				return
			}
			w.finish()
		}()
		h.ServeHTTP(w, req)
	}()
	return <-w.ready
}

// pipeWriter is the http.ResponseWriter of a decrypted request. It also
// implements http.Flusher (a no-op: the pipe is unbuffered) and
// http.Hijacker (the bytes written to the hijacked connection are parsed
// back into the response, reason phrase included).
type pipeWriter struct {
	req    *http.Request
	header http.Header
	pr     *io.PipeReader
	pw     *io.PipeWriter
	ready  chan *http.Response

	mu       sync.Mutex
	sent     bool // a response went to ready
	wrote    bool // WriteHeader happened
	bodyless bool
	hj       *hijackConn
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) deliver(resp *http.Response) {
	if w.sent {
		return
	}
	w.sent = true
	w.ready <- resp
}

func (w *pipeWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(code)
}

func (w *pipeWriter) writeHeaderLocked(code int) {
	if w.wrote || w.hj != nil {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // informational responses are not relayed
	}
	w.wrote = true
	h := w.header.Clone()
	resp := &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: w.pr, ContentLength: -1, Request: w.req,
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			resp.ContentLength = n
		}
	}
	if w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified {
		w.bodyless = true
		resp.Body = http.NoBody
		if code != http.StatusOK || w.req.Method != http.MethodHead {
			resp.ContentLength = 0
		}
	}
	w.deliver(resp)
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.hj != nil {
		w.mu.Unlock()
		return 0, http.ErrHijacked
	}
	if !w.wrote {
		if w.header.Get("Content-Type") == "" && w.header.Get("Transfer-Encoding") == "" && len(p) > 0 {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.writeHeaderLocked(http.StatusOK)
	}
	bodyless := w.bodyless
	w.mu.Unlock()
	if bodyless {
		return 0, http.ErrBodyNotAllowed
	}
	return w.pw.Write(p)
}

// Flush implements http.Flusher; every Write already reaches the client.
func (w *pipeWriter) Flush() {}

// FlushError implements the interface http.ResponseController prefers.
func (w *pipeWriter) FlushError() error { return nil }

// Hijack implements http.Hijacker for handlers that write a raw response.
func (w *pipeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wrote {
		return nil, nil, errors.New("moat: hijack after the header was written")
	}
	if w.hj != nil {
		return nil, nil, http.ErrHijacked
	}
	w.hj = &hijackConn{w: w}
	return w.hj, bufio.NewReadWriter(bufio.NewReader(w.hj), bufio.NewWriter(w.hj)), nil
}

// finish runs when the handler returned normally.
func (w *pipeWriter) finish() {
	w.mu.Lock()
	hj := w.hj
	if hj == nil && !w.wrote {
		w.writeHeaderLocked(http.StatusOK)
	}
	w.mu.Unlock()
	if hj != nil {
		_ = hj.Close()
	}
	_ = w.pw.Close()
}

// abort runs when the handler panicked.
func (w *pipeWriter) abort() {
	w.mu.Lock()
	w.deliver(textResponse(w.req, http.StatusInternalServerError, "moat: internal error"))
	w.mu.Unlock()
	_ = w.pw.CloseWithError(errHandlerAborted)
}

// hijackConn collects a raw HTTP response written by a handler.
type hijackConn struct {
	w *pipeWriter

	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
}

func (c *hijackConn) Read([]byte) (int, error) { return 0, io.EOF }

func (c *hijackConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.buf.Len()+len(p) > maxHijackedResponse {
		return 0, errors.New("moat: hijacked response too large")
	}
	return c.buf.Write(p)
}

// Close parses what was written and delivers it as the response.
func (c *hijackConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	raw := c.buf.Bytes()
	c.mu.Unlock()

	w := c.w
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), w.req)
	if err != nil {
		resp = textResponse(w.req, http.StatusBadGateway, "moat: malformed response from handler")
	} else {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			body = nil
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.TransferEncoding = nil
		resp.Header.Del("Content-Length")
	}
	w.mu.Lock()
	w.deliver(resp)
	w.mu.Unlock()
	return nil
}

func (c *hijackConn) LocalAddr() net.Addr              { return dummyAddr{} }
func (c *hijackConn) RemoteAddr() net.Addr             { return dummyAddr{} }
func (c *hijackConn) SetDeadline(time.Time) error      { return nil }
func (c *hijackConn) SetReadDeadline(time.Time) error  { return nil }
func (c *hijackConn) SetWriteDeadline(time.Time) error { return nil }

type dummyAddr struct{}

func (dummyAddr) Network() string { return "moat-hijack" }
func (dummyAddr) String() string  { return "moat-hijack" }
