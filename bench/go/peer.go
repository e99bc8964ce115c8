// Peer benchmark for snow-rt: the Go (goroutine) side.
//
// Usage:
//
//	peer [-workers N] <workload> [size] [workers]
//
// Workers sets runtime.GOMAXPROCS; it may be given either as the -workers
// flag or as the third positional argument (default: the current
// GOMAXPROCS, i.e. the number of CPUs). Size defaults to the full size of
// the workload.
//
// Prints exactly one result line on stdout:
//
//	workload=<name> workers=<N> size=<S> check=<v> ok=<1|0> elapsed_ns=<ns> [extra=...]
//
// Exit status: 0 ok, 1 failed check (or runtime error), 2 bad arguments.
//
// Standard library only; build with `go build -o peer-go .` in this directory.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type workload struct {
	name     string
	defSize  int64
	pow10    bool // size must be a power of 10
	run      func(size int64) (check int64, extra string, err error)
	expected func(size int64) int64
}

var workloads = []workload{
	{"spawn-tree", 1000000, true, spawnTree, triangular},
	{"spawn-flat", 1000000, false, spawnFlat, identity},
	{"yield-storm", 10000000, false, yieldStorm, identity},
	{"resident", 100000, false, resident, identity},
	{"skynet-msg", 1000000, true, skynetMsg, triangular},
	{"ping-pong", 1000000, false, pingPong, identity},
	{"ring", 10000000, false, ring, identity},
	{"service-call", 1000000, false, serviceCall, identity},
	{"sup-restart", 100000, false, supRestart, identity},
	{"overload", 1000, false, overload, identity},
	{"scale", 1000000, true, scale, identity},
}

func triangular(s int64) int64 { return s * (s - 1) / 2 }
func identity(s int64) int64   { return s }

const (
	fanout       = 10
	yieldActors  = 1000
	ringActors   = 1000
	maxSizeLimit = 1 << 40
)

// ---------------------------------------------------------------- helpers

// log10exact returns d such that 10^d == s, or -1.
func log10exact(s int64) int {
	d := 0
	for s > 1 {
		if s%10 != 0 {
			return -1
		}
		s /= 10
		d++
	}
	if s != 1 {
		return -1
	}
	return d
}

// share splits total into n parts as evenly as possible; part i.
func share(total int64, n, i int) int64 {
	q, r := total/int64(n), total%int64(n)
	if int64(i) < r {
		return q + 1
	}
	return q
}

// rssBytes reads VmRSS from /proc/self/status.
func rssBytes() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("VmRSS:")) {
			continue
		}
		f := bytes.Fields(line[len("VmRSS:"):])
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, err
		}
		return kb * 1024, nil
	}
	return 0, errors.New("VmRSS not found in /proc/self/status")
}

// -------------------------------------------------------------- workloads

// spawn-tree: every actor above the leaf depth spawns 10 children; each
// leaf adds its index to a shared atomic sum. The main goroutine is the
// root. A single WaitGroup tracks every spawned goroutine.
func spawnTree(size int64) (int64, string, error) {
	depth := log10exact(size)
	var sum int64
	var wg sync.WaitGroup

	var node func(level int, index int64)
	node = func(level int, index int64) {
		if level == depth {
			atomic.AddInt64(&sum, index)
		} else {
			wg.Add(fanout)
			base := index * fanout
			for i := int64(0); i < fanout; i++ {
				go node(level+1, base+i)
			}
		}
		wg.Done()
	}

	wg.Add(1)
	node(0, 0) // root runs in the calling goroutine
	wg.Wait()
	return atomic.LoadInt64(&sum), "", nil
}

// spawn-flat: main spawns S trivial goroutines, each does an atomic add.
func spawnFlat(size int64) (int64, string, error) {
	var count int64
	var wg sync.WaitGroup
	wg.Add(int(size))
	for i := int64(0); i < size; i++ {
		go func() {
			atomic.AddInt64(&count, 1)
			wg.Done()
		}()
	}
	wg.Wait()
	return atomic.LoadInt64(&count), "", nil
}

// yield-storm: 1000 goroutines each call runtime.Gosched() S/1000 times.
func yieldStorm(size int64) (int64, string, error) {
	var total int64
	var wg sync.WaitGroup
	wg.Add(yieldActors)
	for a := 0; a < yieldActors; a++ {
		n := share(size, yieldActors, a)
		go func(n int64) {
			var done int64
			for ; done < n; done++ {
				runtime.Gosched()
			}
			atomic.AddInt64(&total, done)
			wg.Done()
		}(n)
	}
	wg.Wait()
	return atomic.LoadInt64(&total), "", nil
}

// resident: S goroutines parked on a receive from a shared channel that is
// released by close(). RSS is sampled before spawning and once all are
// parked.
// residentSettle: see resident(); snow_bench.c and peer_bench.erl wait
// as long.
const residentSettle = 500 * time.Millisecond

// spawnParked starts n goroutines that wait on release, then count
// themselves in count and leave exited, and returns once all n wait.
func spawnParked(n int64, release <-chan struct{}, exited *sync.WaitGroup, count *int64) {
	var started sync.WaitGroup
	started.Add(int(n))
	exited.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func() {
			started.Done()
			<-release
			atomic.AddInt64(count, 1)
			exited.Done()
		}()
	}
	started.Wait()
}

func resident(size int64) (int64, string, error) {
	before, err := rssBytes()
	if err != nil {
		return 0, "", err
	}
	release := make(chan struct{})
	var exited sync.WaitGroup
	var count int64
	spawnParked(size, release, &exited, &count)
	// Memory at rest: sampled once every actor has parked and
	// residentSettle has passed, the same in all three systems.
	time.Sleep(residentSettle)
	with, err := rssBytes()
	if err != nil {
		close(release)
		exited.Wait()
		return 0, "", err
	}
	close(release)
	exited.Wait()
	perActor := (with - before) / size
	return atomic.LoadInt64(&count), fmt.Sprintf("rss_per_actor_bytes=%d", perActor), nil
}

// skynet-msg: like spawn-tree, but every node sends its subtree sum to its
// parent over a channel; the root receives the total.
func skynetMsg(size int64) (int64, string, error) {
	depth := log10exact(size)
	var node func(parent chan<- int64, level int, index int64)
	node = func(parent chan<- int64, level int, index int64) {
		if level == depth {
			parent <- index
			return
		}
		results := make(chan int64, fanout)
		base := index * fanout
		for i := int64(0); i < fanout; i++ {
			go node(results, level+1, base+i)
		}
		var sum int64
		for i := 0; i < fanout; i++ {
			sum += <-results
		}
		parent <- sum
	}
	root := make(chan int64, 1)
	node(root, 0, 0) // root runs in the calling goroutine
	return <-root, "", nil
}

// ping-pong: two goroutines bounce a counter back and forth S times over
// two unbuffered channels. The main goroutine is the pinger.
func pingPong(size int64) (int64, string, error) {
	ping := make(chan int64)
	pong := make(chan int64)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	var trips int64
	var bad error
	for i := int64(0); i < size; i++ {
		ping <- i
		if v := <-pong; v != i+1 {
			bad = fmt.Errorf("ping-pong: sent %d got %d", i, v)
			break
		}
		trips++
	}
	close(ping)
	for range pong { // wait for the ponger to finish
	}
	return trips, "", bad
}

// ring: 1000 goroutines in a ring pass a token carrying the number of hops
// still to go. Each node counts the hops it forwards. The node receiving a
// 0 token signals main, which closes every channel to stop the ring.
func ring(size int64) (int64, string, error) {
	chans := make([]chan int64, ringActors)
	for i := range chans {
		chans[i] = make(chan int64)
	}
	done := make(chan struct{}, 1)
	var total int64
	var wg sync.WaitGroup
	wg.Add(ringActors)
	for i := 0; i < ringActors; i++ {
		in, out := chans[i], chans[(i+1)%ringActors]
		go func() {
			var hops int64
			for t := range in {
				if t == 0 {
					done <- struct{}{}
					continue
				}
				out <- t - 1
				hops++
			}
			atomic.AddInt64(&total, hops)
			wg.Done()
		}()
	}
	chans[0] <- size
	<-done
	for _, c := range chans {
		close(c)
	}
	wg.Wait()
	return atomic.LoadInt64(&total), "", nil
}

// ------------------------------------------------------------------- main

func usage() {
	fmt.Fprintf(os.Stderr, "usage: peer [-workers N] <workload> [size] [workers]\nworkloads (default size):\n")
	for _, w := range workloads {
		note := ""
		if w.pow10 {
			note = ", power of 10"
		}
		fmt.Fprintf(os.Stderr, "  %-12s (%d%s)\n", w.name, w.defSize, note)
	}
}

func badArgs(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "peer: "+format+"\n", a...)
	usage()
	os.Exit(2)
}

func parsePositive(what, s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v > maxSizeLimit {
		badArgs("bad %s %q (want a positive integer)", what, s)
	}
	return v
}

func main() {
	var args []string
	workers := 0
	argv := os.Args[1:]
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-h" || a == "-help" || a == "--help":
			usage()
			os.Exit(2)
		case a == "-workers" || a == "--workers":
			if i+1 >= len(argv) {
				badArgs("%s needs a value", a)
			}
			i++
			workers = int(parsePositive("workers", argv[i]))
		case strings.HasPrefix(a, "-workers=") || strings.HasPrefix(a, "--workers="):
			workers = int(parsePositive("workers", a[strings.IndexByte(a, '=')+1:]))
		case len(a) > 1 && a[0] == '-':
			badArgs("unknown option %q", a)
		default:
			args = append(args, a)
		}
	}
	if len(args) < 1 || len(args) > 3 {
		badArgs("expected <workload> [size] [workers]")
	}

	var w *workload
	for i := range workloads {
		if workloads[i].name == args[0] {
			w = &workloads[i]
		}
	}
	if w == nil {
		badArgs("unknown workload %q", args[0])
	}

	size := w.defSize
	if len(args) >= 2 {
		size = parsePositive("size", args[1])
	}
	if w.pow10 && log10exact(size) < 0 {
		badArgs("%s: size %d is not a power of 10", w.name, size)
	}
	if w.pow10 && size > 1000000000 {
		badArgs("%s: size %d too large", w.name, size)
	}
	if w.name == "resident" || w.name == "spawn-flat" || w.name == "overload" {
		if size > 1<<31-1 {
			badArgs("%s: size %d too large", w.name, size)
		}
	}

	if len(args) == 3 {
		n := int(parsePositive("workers", args[2]))
		if workers != 0 && workers != n {
			badArgs("conflicting -workers %d and workers argument %d", workers, n)
		}
		workers = n
	}
	if workers > 0 {
		runtime.GOMAXPROCS(workers)
	}
	workers = runtime.GOMAXPROCS(0)

	start := time.Now()
	check, extra, err := w.run(size)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "peer: %s: %v\n", w.name, err)
	}

	if w.name == "ping-pong" && err == nil {
		mps := float64(2*check) / elapsed.Seconds()
		extra = fmt.Sprintf("msgs_per_sec=%.0f", mps)
	}

	ok := err == nil && check == w.expected(size)
	okv := 0
	if ok {
		okv = 1
	}
	line := fmt.Sprintf("workload=%s workers=%d size=%d check=%d ok=%d elapsed_ns=%d",
		w.name, workers, size, check, okv, elapsed.Nanoseconds())
	if extra != "" {
		line += " extra=" + extra
	}
	fmt.Println(line)
	if !ok {
		os.Exit(1)
	}
}

// service-call: a server goroutine answers requests on a request channel
// with n + 1 on the caller's reply channel (the pair a Go program makes
// for a synchronous call); the main goroutine makes S calls in turn.
type request struct {
	n     int64
	reply chan int64
}

func serviceCall(size int64) (int64, string, error) {
	requests := make(chan request)
	go func() {
		for r := range requests {
			r.reply <- r.n + 1
		}
	}()
	reply := make(chan int64)
	var calls int64
	var bad error
	for i := int64(0); i < size; i++ {
		requests <- request{i, reply}
		if v := <-reply; v != i+1 {
			bad = fmt.Errorf("service-call: call %d got %d", i, v)
			break
		}
		calls++
	}
	close(requests)
	return calls, "", bad
}

// sup-restart: Go has no supervisors; the nearest a Go program writes is
// a supervising goroutine that starts a worker goroutine again each time
// it ends in failure (here: its kill channel closed).  The worker tells
// the main goroutine it is up; main fails it S times, each time waiting
// for the next worker to be up.
func supRestart(size int64) (int64, string, error) {
	up := make(chan chan struct{})
	stop := make(chan struct{})
	go func() { // the supervisor
		for {
			kill := make(chan struct{})
			failed := make(chan struct{})
			go func() { // the worker
				up <- kill
				<-kill
				close(failed)
			}()
			select {
			case <-failed:
			case <-stop:
				return
			}
		}
	}()
	var restarts int64
	kill := <-up
	for restarts = 0; restarts < size; restarts++ {
		close(kill)
		kill = <-up
	}
	close(stop)
	close(kill)
	return restarts, "", nil
}

// overload: Pony's overload example. S goroutines send as fast as they
// can to one receiver goroutine for OVERLOAD_MS (run.sh sets it; 2000 when
// unset) over its mailbox, a channel of overloadMailbox messages: a full
// channel blocks its senders, which is Go's backpressure. Then each sends
// a done and ends. The receiver works a little on every message (the same
// rounds as snow_bench.c) and counts the data messages until every done is
// in. msgs_per_sec is over the whole run, the draining included.
const (
	overloadDefaultMS = 2000
	overloadMailbox   = 1024
	overloadRounds    = 14
)

type overloadMsg struct {
	v    uint64
	done bool
}

// Where the receiver's work goes, so that the compiler keeps it.
var overloadSink uint64

// overloadWork: rounds of the Park-Miller generator, as in snow_bench.c.
func overloadWork(v uint64) uint64 {
	x := v%2147483646 + 1
	for i := 0; i < overloadRounds; i++ {
		x = x * 48271 % 2147483647
	}
	return x
}

func overloadDuration() (time.Duration, error) {
	s := os.Getenv("OVERLOAD_MS")
	if s == "" {
		return overloadDefaultMS * time.Millisecond, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return 0, fmt.Errorf("bad OVERLOAD_MS %q", s)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func overload(size int64) (int64, string, error) {
	d, err := overloadDuration()
	if err != nil {
		return 0, "", err
	}
	start := time.Now()
	mailbox := make(chan overloadMsg, overloadMailbox)
	received := make(chan uint64)
	var stop atomic.Bool
	var sent uint64
	go func() {
		var got, acc uint64
		for dones := int64(0); dones < size; {
			m := <-mailbox
			if m.done {
				dones++
				continue
			}
			got++
			acc ^= overloadWork(m.v)
		}
		overloadSink = acc
		received <- got
	}()
	for i := int64(0); i < size; i++ {
		go func() {
			var n uint64
			for !stop.Load() {
				mailbox <- overloadMsg{v: n}
				n++
			}
			// Counted before the done, which the receiver ends on.
			atomic.AddUint64(&sent, n)
			mailbox <- overloadMsg{done: true}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	got := <-received
	extra := fmt.Sprintf("msgs_per_sec=%.0f", float64(got)/time.Since(start).Seconds())
	if s := atomic.LoadUint64(&sent); got != s {
		return 0, extra, fmt.Errorf("overload: %d sent, %d received", s, got)
	}
	return size, extra, nil
}

// scale: parked goroutines from 10^4 up to S (a power of ten), each
// resident's (blocked on a receive from a channel that is closed to
// release them), measured at each power of ten as snow_bench.c does: the
// spawns since the last one until each has started, per goroutine, and
// the RSS per goroutine of all of them at rest, that is residentSettle
// and then until the RSS stops falling (snow-rt's stacks take seconds to
// hibernate; the same rule here).
const (
	scaleFirst     = 10000
	scalePoll      = 250 * time.Millisecond
	scaleSettleMax = 20 * time.Second
)

func scaleRSSAtRest() (int64, error) {
	time.Sleep(residentSettle)
	rss, err := rssBytes()
	for waited := time.Duration(0); err == nil && waited < scaleSettleMax; waited += scalePoll {
		time.Sleep(scalePoll)
		last := rss
		// Less than 1% given back in a poll: settled.
		if rss, err = rssBytes(); err != nil || rss > last-last/100 {
			break
		}
	}
	return rss, err
}

func scale(size int64) (int64, string, error) {
	before, err := rssBytes()
	if err != nil {
		return 0, "", err
	}
	release := make(chan struct{})
	var exited sync.WaitGroup
	var count, spawned int64
	var parts []string
	n := int64(scaleFirst)
	if size < n {
		n = size
	}
	for ; n <= size; n *= 10 {
		from := spawned
		t0 := time.Now()
		spawnParked(n-from, release, &exited, &count)
		spawned = n
		perSpawn := float64(time.Since(t0).Nanoseconds()) / float64(n-from)
		rss, err := scaleRSSAtRest()
		if err != nil {
			close(release)
			exited.Wait()
			return 0, "", err
		}
		parts = append(parts, fmt.Sprintf("n=%d:ns_per_spawn=%.0f:bytes_per_actor=%d",
			n, perSpawn, (rss-before)/n))
	}
	close(release)
	exited.Wait()
	return atomic.LoadInt64(&count), strings.Join(parts, ";"), nil
}
