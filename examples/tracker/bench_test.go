package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkPost measures what -sync costs: each iteration sends a wave of
// 32 concurrent POST /event over loopback to a tracker running in the
// process (no simulated latency), with and without -sync, in the same run.
// It reports requests per second and the median and 99th percentile
// latency of a request; the file is on the test's temporary directory.
func BenchmarkPost(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) { benchmarkPost(b, sync) })
	}
}

func benchmarkPost(b *testing.B, syncMode bool) {
	const wave = 32
	cfg := config{timeout: 10 * time.Second, sync: syncMode, requests: 1}
	s, err := newService(cfg, filepath.Join(b.TempDir(), "events.log"), nil)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx, ln, nil) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: wave}}
	base := "http://" + ln.Addr().String() + "/event?id="

	var latencies []time.Duration
	var mu sync.Mutex
	n := 0
	b.ReportAllocs()
	begin := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		for range wave {
			n++
			id := fmt.Sprint(n)
			wg.Go(func() {
				t0 := time.Now()
				resp, err := client.Post(base+id, "", nil)
				d := time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusCreated {
					b.Errorf("POST: %v %v", resp, err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	elapsed := time.Since(begin)
	stop()
	if err := <-served; err != nil {
		b.Fatal(err)
	}
	client.CloseIdleConnections()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
	}
}
