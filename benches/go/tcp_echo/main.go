// Command tcp_echo is the Go side of goro's tcp_echo bench: a TCP echo
// server on an ephemeral loopback port, one goroutine per connection, with
// TCP_NODELAY (Go's default). It prints "LISTEN <addr>" once it accepts and
// runs until killed. Run it with GOMAXPROCS=2 to match the other servers.
package main

import (
	"fmt"
	"net"
	"os"
)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	fmt.Printf("LISTEN %s\n", l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "accept:", err)
			continue
		}
		c.(*net.TCPConn).SetNoDelay(true)
		go echo(c)
	}
}
