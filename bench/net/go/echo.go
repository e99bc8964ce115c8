// The Go peer of the network benchmark: an echo server, one goroutine
// per connection, driven by bench/net/echoload.
//
// Usage:
//
//	echo PORT
//
// Listens on 127.0.0.1:PORT (0: a free port, chosen by the kernel),
// prints "listening PORT" with the port it got once it accepts
// connections, and writes every byte it reads on a connection back to
// it.  Exits 0 on SIGTERM or SIGINT, 2 on bad arguments, 1 if it cannot
// listen.
//
// Standard library only; build in this directory with
// GOFLAGS=-mod=mod GOPROXY=off go build -o echo-go .
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// The benchmark's requests are 64 bytes: a buffer of that size reads one
// whole.  Larger requests take several reads.  Not io.Copy: on Linux a
// TCPConn copied to a TCPConn splices through a pipe, two more
// descriptors per blocked connection (too many for 10,000 idle ones),
// and without splice its 32 KiB buffer per connection would be most of
// what the idle test measures.
const bufSize = 64

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: echo PORT")
		os.Exit(2)
	}
	port, err := strconv.ParseUint(os.Args[1], 10, 16)
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo: bad PORT %q\n", os.Args[1])
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.FormatUint(port, 10))
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo: %v\n", err)
		os.Exit(1)
	}
	go stopOnSignal(ln)
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	acceptLoop(ln)
}

// stopOnSignal closes the listener and exits at SIGTERM or SIGINT; the
// connections close with the process.
func stopOnSignal(ln net.Listener) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	ln.Close()
	os.Exit(0)
}

func acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of descriptors, most likely: the connection waits
			// in the backlog; say so and try again shortly.
			fmt.Fprintf(os.Stderr, "echo: accept: %v\n", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(c)
	}
}

func serve(c net.Conn) {
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true) // Go's default already; said for the reader
	}
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or reset: the client is done
		}
	}
}
