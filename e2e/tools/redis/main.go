// Command redis is the Redis Argo CD caches in, for the end-to-end tests:
// miniredis, an in-memory server speaking the Redis protocol, on one
// loopback address until it is interrupted.
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/alicebob/miniredis/v2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "address to listen on")
	flag.Parse()
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(*addr); err != nil {
		log.Fatalf("redis: %v", err)
	}
	log.Printf("redis: miniredis on %s", m.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	m.Close()
}
