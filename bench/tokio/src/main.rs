// Peer benchmark for snow-rt: the Tokio (Rust async tasks) side.
//
// Build (offline, Debian 12's cargo, rustc and librust-tokio-dev; $out is
// the output directory, the binary lands in $out/peer-tokio):
//
//   cd bench/tokio && CARGO_HOME="$out/cargo-home" CARGO_TARGET_DIR="$out/tokio-target" RUSTC=/usr/bin/rustc /usr/bin/cargo build --release --offline --locked -q && cp "$out/tokio-target/release/peer-tokio" "$out/peer-tokio"
//
// (.cargo/config.toml in this directory points cargo at the crates in
// /usr/share/cargo/registry; that is why the build runs from here.)
//
// Usage:
//
//   peer-tokio [-workers N] <workload> [size] [workers]
//
// The same contract as bench/go/peer.go: one result line on stdout,
//
//   workload=<name> workers=<N> size=<S> check=<v> ok=<1|0> elapsed_ns=<ns> [extra=...]
//
// exit 0 ok, 1 failed check (or runtime error), 2 bad arguments.
//
// The runtime: Tokio's multi-thread scheduler with worker_threads = workers
// (default: the number of CPUs), so with one worker there is the main
// thread plus one worker thread, as in snow-rt. The main thread only
// blocks in block_on() waiting for the root task: every workload runs in a
// root task spawned onto the workers, the counterpart of Go's main
// goroutine and snow-rt's root actor. Tasks are tokio::spawn()ed futures
// (stackless: there is no stack size to set); mailboxes are unbounded mpsc
// channels; synchronous replies come back on oneshot channels. Idle
// workers park on a condition variable (the time driver), they do not
// spin. The timed region, as in the Go peer, is the workload itself: from
// before the root task is spawned to after it has been joined; building
// the runtime and shutting it down are outside it.
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Notify};

type Outcome = Result<(u64, String), String>;

struct Workload {
    name: &'static str,
    def_size: u64,
    pow10: bool,
    expected: fn(u64) -> u64,
}

fn triangular(s: u64) -> u64 {
    s * (s - 1) / 2
}

fn identity(s: u64) -> u64 {
    s
}

const WORKLOADS: &[Workload] = &[
    Workload { name: "spawn-tree", def_size: 1_000_000, pow10: true, expected: triangular },
    Workload { name: "spawn-flat", def_size: 1_000_000, pow10: false, expected: identity },
    Workload { name: "yield-storm", def_size: 10_000_000, pow10: false, expected: identity },
    Workload { name: "resident", def_size: 100_000, pow10: false, expected: identity },
    Workload { name: "resident-oneshot", def_size: 100_000, pow10: false, expected: identity },
    Workload { name: "skynet-msg", def_size: 1_000_000, pow10: true, expected: triangular },
    Workload { name: "ping-pong", def_size: 1_000_000, pow10: false, expected: identity },
    Workload { name: "ring", def_size: 10_000_000, pow10: false, expected: identity },
    Workload { name: "service-call", def_size: 1_000_000, pow10: false, expected: identity },
    Workload { name: "sup-restart", def_size: 100_000, pow10: false, expected: identity },
    Workload { name: "overload", def_size: 1000, pow10: false, expected: identity },
];

const FANOUT: u64 = 10;
const YIELD_ACTORS: u64 = 1000;
const RING_ACTORS: usize = 1000;
const MAX_SIZE: u64 = 1 << 40;
/// See resident(): snow_bench.c, peer.go and peer_bench.erl wait as long.
const RESIDENT_SETTLE: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------- helpers

/// d such that 10^d == s, or None.
fn log10exact(mut s: u64) -> Option<u32> {
    let mut d = 0;
    while s > 1 {
        if s % 10 != 0 {
            return None;
        }
        s /= 10;
        d += 1;
    }
    if s == 1 {
        Some(d)
    } else {
        None
    }
}

/// Splits total into n parts as evenly as possible; part i.
fn share(total: u64, n: u64, i: u64) -> u64 {
    let (q, r) = (total / n, total % n);
    if i < r {
        q + 1
    } else {
        q
    }
}

/// VmRSS from /proc/self/status, in bytes.
fn rss_bytes() -> Result<i64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kb: i64 = rest
                .split_whitespace()
                .next()
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| format!("bad VmRSS line {line:?}"))?;
            return Ok(kb * 1024);
        }
    }
    Err("VmRSS not found in /proc/self/status".into())
}

/// Go's sync.WaitGroup, which Tokio does not have: a counter, and a Notify
/// for the one task that waits for it to reach zero.
struct WaitGroup {
    pending: AtomicI64,
    zero: Notify,
}

impl WaitGroup {
    fn new(n: i64) -> Self {
        WaitGroup { pending: AtomicI64::new(n), zero: Notify::new() }
    }

    fn add(&self, n: i64) {
        self.pending.fetch_add(n, Ordering::AcqRel);
    }

    fn done(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Stores a permit if the waiter is not waiting yet.
            self.zero.notify_one();
        }
    }

    async fn wait(&self) {
        while self.pending.load(Ordering::Acquire) != 0 {
            self.zero.notified().await;
        }
    }
}

/// State shared by the tasks of one run. Leaked, so that the tasks (which
/// must be 'static) borrow it as Go's closures do, without an Arc per task.
fn shared<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}

// -------------------------------------------------------------- workloads

// spawn-tree: every task above the leaf depth spawns 10 children; each
// leaf adds its index to a shared atomic sum. The root task is the root
// node. A single WaitGroup tracks every spawned task.
struct Tree {
    depth: u32,
    sum: AtomicU64,
    wg: WaitGroup,
}

fn tree_node(t: &'static Tree, level: u32, index: u64) {
    if level == t.depth {
        t.sum.fetch_add(index, Ordering::Relaxed);
    } else {
        t.wg.add(FANOUT as i64);
        let base = index * FANOUT;
        for i in 0..FANOUT {
            tokio::spawn(async move { tree_node(t, level + 1, base + i) });
        }
    }
    t.wg.done();
}

async fn spawn_tree(size: u64) -> Outcome {
    let t = shared(Tree { depth: log10exact(size).unwrap(), sum: AtomicU64::new(0), wg: WaitGroup::new(1) });
    tree_node(t, 0, 0); // the root runs in the calling task
    t.wg.wait().await;
    Ok((t.sum.load(Ordering::Relaxed), String::new()))
}

// spawn-flat: the root spawns S trivial tasks, each does an atomic add.
struct Flat {
    count: AtomicU64,
    wg: WaitGroup,
}

async fn spawn_flat(size: u64) -> Outcome {
    let f = shared(Flat { count: AtomicU64::new(0), wg: WaitGroup::new(size as i64) });
    for _ in 0..size {
        tokio::spawn(async move {
            f.count.fetch_add(1, Ordering::Relaxed);
            f.wg.done();
        });
    }
    f.wg.wait().await;
    Ok((f.count.load(Ordering::Relaxed), String::new()))
}

// yield-storm: 1000 tasks each call tokio::task::yield_now() S/1000 times.
async fn yield_storm(size: u64) -> Outcome {
    let f = shared(Flat { count: AtomicU64::new(0), wg: WaitGroup::new(YIELD_ACTORS as i64) });
    for a in 0..YIELD_ACTORS {
        let n = share(size, YIELD_ACTORS, a);
        tokio::spawn(async move {
            let mut done = 0;
            while done < n {
                tokio::task::yield_now().await;
                done += 1;
            }
            f.count.fetch_add(done, Ordering::Relaxed);
            f.wg.done();
        });
    }
    f.wg.wait().await;
    Ok((f.count.load(Ordering::Relaxed), String::new()))
}

// resident: S tasks, each parked on a receive from its own mailbox (an
// unbounded mpsc channel, as snow-rt's actors wait on theirs) until the
// root sends each of them its release. RSS is sampled before spawning and
// once all are parked and RESIDENT_SETTLE has passed. resident-oneshot:
// the same with a oneshot channel instead of a mailbox, the lightest
// thing a Tokio task can wait on for one message.
struct Resident {
    started: WaitGroup,
    exited: WaitGroup,
    count: AtomicU64,
}

/// `pair` makes one task's channel: the handle the root releases it by
/// and the future the task parks on (true: released).
async fn resident_with<R, W, P>(size: u64, pair: P, release: fn(R) -> bool) -> Outcome
where
    R: Send + 'static,
    W: Future<Output = bool> + Send + 'static,
    P: Fn() -> (R, W),
{
    let n = size as usize;
    // The handles the root releases by: touched before the first sample,
    // so that the figure stays the tasks' own cost (as snow_bench.c does).
    let mut handles: Vec<Option<R>> = Vec::new();
    handles.resize_with(n, || None);
    let r = shared(Resident {
        started: WaitGroup::new(size as i64),
        exited: WaitGroup::new(size as i64),
        count: AtomicU64::new(0),
    });
    let before = rss_bytes()?;
    for h in handles.iter_mut() {
        let (tx, waiter) = pair();
        *h = Some(tx);
        tokio::spawn(async move {
            r.started.done();
            if waiter.await {
                r.count.fetch_add(1, Ordering::Relaxed);
            }
            r.exited.done();
        });
    }
    r.started.wait().await;
    // Memory at rest: sampled once every task has parked and
    // RESIDENT_SETTLE has passed, the same in all the systems.
    tokio::time::sleep(RESIDENT_SETTLE).await;
    let with = rss_bytes();
    let mut lost = 0;
    for h in handles.into_iter().flatten() {
        if !release(h) {
            lost += 1;
        }
    }
    r.exited.wait().await;
    let with = with?;
    if lost != 0 {
        return Err(format!("{lost} releases not delivered"));
    }
    let per_actor = (with - before) / size as i64;
    Ok((r.count.load(Ordering::Relaxed), format!("rss_per_actor_bytes={per_actor}")))
}

// skynet-msg: like spawn-tree, but every node sends its subtree sum to its
// parent over the parent's mailbox; the root task receives the total.
async fn sky_node(parent: mpsc::UnboundedSender<u64>, depth: u32, level: u32, index: u64) {
    if level == depth {
        let _ = parent.send(index);
        return;
    }
    let (tx, mut results) = mpsc::unbounded_channel();
    let base = index * FANOUT;
    for i in 0..FANOUT {
        spawn_sky(tx.clone(), depth, level + 1, base + i);
    }
    drop(tx);
    let mut sum = 0;
    for _ in 0..FANOUT {
        match results.recv().await {
            Some(v) => sum += v,
            None => return, // a child died: the parent sees its sender go
        }
    }
    let _ = parent.send(sum);
}

// A plain function, so that sky_node's future need not name itself.
fn spawn_sky(parent: mpsc::UnboundedSender<u64>, depth: u32, level: u32, index: u64) {
    tokio::spawn(sky_node(parent, depth, level, index));
}

async fn skynet_msg(size: u64) -> Outcome {
    let depth = log10exact(size).unwrap();
    let (tx, mut root) = mpsc::unbounded_channel();
    sky_node(tx, depth, 0, 0).await; // the root runs in the calling task
    match root.recv().await {
        Some(v) => Ok((v, String::new())),
        None => Err("skynet-msg: no result".into()),
    }
}

// ping-pong: two tasks bounce a counter back and forth S times over two
// mailboxes. The root task is the pinger.
async fn ping_pong(size: u64) -> Outcome {
    let (ping, mut ping_rx) = mpsc::unbounded_channel::<u64>();
    let (pong_tx, mut pong) = mpsc::unbounded_channel::<u64>();
    tokio::spawn(async move {
        while let Some(v) = ping_rx.recv().await {
            if pong_tx.send(v + 1).is_err() {
                break;
            }
        }
    });
    let mut trips = 0;
    let mut bad = None;
    for i in 0..size {
        if ping.send(i).is_err() {
            bad = Some(format!("ping-pong: ponger gone at {i}"));
            break;
        }
        match pong.recv().await {
            Some(v) if v == i + 1 => trips += 1,
            v => {
                bad = Some(format!("ping-pong: sent {i} got {v:?}"));
                break;
            }
        }
    }
    drop(ping);
    while pong.recv().await.is_some() {} // wait for the ponger to finish
    match bad {
        None => Ok((trips, String::new())),
        Some(e) => Err(e),
    }
}

// ring: 1000 tasks in a ring pass a token carrying the number of hops
// still to go. Each node counts the hops it forwards. The node receiving
// a 0 token signals the root, which then stops every node (Go closes every
// channel; here each node's successor holds a sender, so the root sends a
// Stop instead).
enum RingMsg {
    Token(u64),
    Stop,
}

async fn ring(size: u64) -> Outcome {
    let f = shared(Flat { count: AtomicU64::new(0), wg: WaitGroup::new(RING_ACTORS as i64) });
    let (done_tx, mut done) = mpsc::unbounded_channel::<()>();
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..RING_ACTORS).map(|_| mpsc::unbounded_channel::<RingMsg>()).unzip();
    for (i, mut inbox) in receivers.into_iter().enumerate() {
        let out = senders[(i + 1) % RING_ACTORS].clone();
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let mut hops = 0;
            while let Some(m) = inbox.recv().await {
                match m {
                    RingMsg::Token(0) => {
                        let _ = done_tx.send(());
                    }
                    RingMsg::Token(t) => {
                        if out.send(RingMsg::Token(t - 1)).is_err() {
                            break;
                        }
                        hops += 1;
                    }
                    RingMsg::Stop => break,
                }
            }
            f.count.fetch_add(hops, Ordering::Relaxed);
            f.wg.done();
        });
    }
    drop(done_tx);
    let sent = senders[0].send(RingMsg::Token(size)).is_ok();
    let finished = sent && done.recv().await.is_some();
    for s in &senders {
        let _ = s.send(RingMsg::Stop);
    }
    f.wg.wait().await;
    if !finished {
        return Err("ring: the token was lost".into());
    }
    Ok((f.count.load(Ordering::Relaxed), String::new()))
}

// service-call: a server task answers requests from its mailbox with
// n + 1 on the oneshot channel that comes with each request (the Tokio
// idiom for a synchronous call); the root task makes S calls in turn.
struct Request {
    n: u64,
    reply: oneshot::Sender<u64>,
}

async fn service_call(size: u64) -> Outcome {
    let (requests, mut inbox) = mpsc::unbounded_channel::<Request>();
    tokio::spawn(async move {
        while let Some(r) = inbox.recv().await {
            let _ = r.reply.send(r.n + 1);
        }
    });
    let mut calls = 0;
    for i in 0..size {
        let (reply, answer) = oneshot::channel();
        if requests.send(Request { n: i, reply }).is_err() {
            return Err(format!("service-call: server gone at call {i}"));
        }
        match answer.await {
            Ok(v) if v == i + 1 => calls += 1,
            v => return Err(format!("service-call: call {i} got {v:?}")),
        }
    }
    drop(requests);
    Ok((calls, String::new()))
}

// sup-restart: Tokio has no supervisors; the nearest a Tokio program
// writes is a supervising task that spawns a worker task, awaits its
// JoinHandle, and spawns it again each time it ends in failure (an Err
// result or a panic). The worker tells the root it is up by sending it a
// kill switch (a oneshot sender); the root fails it S times, each time
// waiting for the next worker to be up. The supervisor is stopped by
// aborting it, Tokio's way of cancelling a task.
async fn sup_worker(up: mpsc::UnboundedSender<oneshot::Sender<()>>) -> Result<(), &'static str> {
    let (kill, killed) = oneshot::channel();
    if up.send(kill).is_err() {
        return Ok(()); // nobody left to serve: a normal end
    }
    let _ = killed.await;
    Err("killed")
}

async fn supervisor(up: mpsc::UnboundedSender<oneshot::Sender<()>>) {
    loop {
        match tokio::spawn(sup_worker(up.clone())).await {
            Ok(Ok(())) => return,
            Ok(Err(_)) | Err(_) => continue, // failed: restart it
        }
    }
}

async fn sup_restart(size: u64) -> Outcome {
    let (up_tx, mut up) = mpsc::unbounded_channel();
    let sup = tokio::spawn(supervisor(up_tx));
    let mut kill = up.recv().await.ok_or("sup-restart: no first worker")?;
    let mut restarts = 0;
    while restarts < size {
        let _ = kill.send(());
        kill = match up.recv().await {
            Some(k) => k,
            None => return Err(format!("sup-restart: no worker after {restarts}")),
        };
        restarts += 1;
    }
    sup.abort();
    drop(kill);
    Ok((restarts, String::new()))
}

// overload: Pony's overload example. S tasks send as fast as they can to
// one receiver task for OVERLOAD_MS (run.sh sets it; 2000 when unset) over
// its mailbox, a bounded mpsc channel of OVERLOAD_MAILBOX messages:
// send().await waits while it is full, which is Tokio's backpressure. Then
// each sends Done and ends. The receiver works a little on every message
// (the same rounds as snow_bench.c) and counts the data messages until
// every Done is in. The root task sleeps on Tokio's timer, then raises the
// stop flag. msgs_per_sec is over the whole run, the draining included.
const OVERLOAD_DEFAULT_MS: u64 = 2000;
const OVERLOAD_MAILBOX: usize = 1024;
const OVERLOAD_ROUNDS: u32 = 14;

enum OverloadMsg {
    Data(u64),
    Done,
}

struct Overload {
    stop: AtomicBool,
    sent: AtomicU64,
}

/// Where the receiver's work goes, so that the compiler keeps it.
static OVERLOAD_SINK: AtomicU64 = AtomicU64::new(0);

/// Rounds of the Park-Miller generator, as in snow_bench.c.
fn overload_work(v: u64) -> u64 {
    let mut x = v % 2147483646 + 1;
    for _ in 0..OVERLOAD_ROUNDS {
        x = x * 48271 % 2147483647;
    }
    x
}

fn overload_ms() -> Result<u64, String> {
    match std::env::var("OVERLOAD_MS") {
        Err(_) => Ok(OVERLOAD_DEFAULT_MS),
        Ok(s) => match s.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(ms),
            _ => Err(format!("bad OVERLOAD_MS {s:?}")),
        },
    }
}

async fn overload(size: u64) -> Outcome {
    let ms = overload_ms()?;
    let start = Instant::now();
    let o = shared(Overload { stop: AtomicBool::new(false), sent: AtomicU64::new(0) });
    let (tx, mut mailbox) = mpsc::channel::<OverloadMsg>(OVERLOAD_MAILBOX);
    let receiver = tokio::spawn(async move {
        let (mut dones, mut got, mut acc) = (0, 0u64, 0u64);
        while dones < size {
            match mailbox.recv().await {
                Some(OverloadMsg::Data(v)) => {
                    got += 1;
                    acc ^= overload_work(v);
                }
                Some(OverloadMsg::Done) => dones += 1,
                None => break,
            }
        }
        OVERLOAD_SINK.store(acc, Ordering::Relaxed);
        got
    });
    for _ in 0..size {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while !o.stop.load(Ordering::Relaxed) {
                if tx.send(OverloadMsg::Data(n)).await.is_err() {
                    break;
                }
                n += 1;
            }
            // Counted before the Done, which the receiver ends on.
            o.sent.fetch_add(n, Ordering::AcqRel);
            let _ = tx.send(OverloadMsg::Done).await;
        });
    }
    drop(tx);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    o.stop.store(true, Ordering::Relaxed);
    let got = receiver.await.map_err(|e| format!("overload: receiver: {e}"))?;
    let extra = format!("msgs_per_sec={:.0}", got as f64 / start.elapsed().as_secs_f64());
    let sent = o.sent.load(Ordering::Acquire);
    if got != sent {
        return Err(format!("overload: {sent} sent, {got} received"));
    }
    Ok((size, extra))
}

async fn run(name: &'static str, size: u64) -> Outcome {
    match name {
        "spawn-tree" => spawn_tree(size).await,
        "spawn-flat" => spawn_flat(size).await,
        "yield-storm" => yield_storm(size).await,
        "resident" => {
            let pair = || {
                let (tx, mut rx) = mpsc::unbounded_channel::<()>();
                (tx, async move { rx.recv().await.is_some() })
            };
            resident_with(size, pair, |tx| tx.send(()).is_ok()).await
        }
        "resident-oneshot" => {
            let pair = || {
                let (tx, rx) = oneshot::channel::<()>();
                (tx, async move { rx.await.is_ok() })
            };
            resident_with(size, pair, |tx| tx.send(()).is_ok()).await
        }
        "skynet-msg" => skynet_msg(size).await,
        "ping-pong" => ping_pong(size).await,
        "ring" => ring(size).await,
        "service-call" => service_call(size).await,
        "sup-restart" => sup_restart(size).await,
        "overload" => overload(size).await,
        _ => unreachable!(),
    }
}

// ------------------------------------------------------------------- main

fn usage() {
    eprintln!("usage: peer-tokio [-workers N] <workload> [size] [workers]\nworkloads (default size):");
    for w in WORKLOADS {
        let note = if w.pow10 { ", power of 10" } else { "" };
        eprintln!("  {:<16} ({}{})", w.name, w.def_size, note);
    }
}

fn bad_args(msg: String) -> ! {
    eprintln!("peer-tokio: {msg}");
    usage();
    std::process::exit(2);
}

fn parse_positive(what: &str, s: &str) -> u64 {
    match s.parse::<u64>() {
        Ok(v) if v > 0 && v <= MAX_SIZE => v,
        _ => bad_args(format!("bad {what} {s:?} (want a positive integer)")),
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut args: Vec<&str> = Vec::new();
    let mut workers: u64 = 0;
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].as_str();
        if a == "-h" || a == "-help" || a == "--help" {
            usage();
            std::process::exit(2);
        } else if a == "-workers" || a == "--workers" {
            if i + 1 >= argv.len() {
                bad_args(format!("{a} needs a value"));
            }
            i += 1;
            workers = parse_positive("workers", &argv[i]);
        } else if a.starts_with("-workers=") || a.starts_with("--workers=") {
            workers = parse_positive("workers", &a[a.find('=').unwrap() + 1..]);
        } else if a.len() > 1 && a.starts_with('-') {
            bad_args(format!("unknown option {a:?}"));
        } else {
            args.push(a);
        }
        i += 1;
    }
    if args.is_empty() || args.len() > 3 {
        bad_args("expected <workload> [size] [workers]".into());
    }
    let w = match WORKLOADS.iter().find(|w| w.name == args[0]) {
        Some(w) => w,
        None => bad_args(format!("unknown workload {:?}", args[0])),
    };
    let size = if args.len() >= 2 { parse_positive("size", args[1]) } else { w.def_size };
    if w.pow10 && log10exact(size).is_none() {
        bad_args(format!("{}: size {} is not a power of 10", w.name, size));
    }
    if w.pow10 && size > 1_000_000_000 {
        bad_args(format!("{}: size {} too large", w.name, size));
    }
    if w.name.starts_with("resident") || w.name == "spawn-flat" || w.name == "overload" {
        if size > (1 << 31) - 1 {
            bad_args(format!("{}: size {} too large", w.name, size));
        }
    }
    if args.len() == 3 {
        let n = parse_positive("workers", args[2]);
        if workers != 0 && workers != n {
            bad_args(format!("conflicting -workers {workers} and workers argument {n}"));
        }
        workers = n;
    }
    if workers == 0 {
        workers = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1);
    }
    if workers > 1024 {
        bad_args(format!("bad workers {workers} (at most 1024)"));
    }

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers as usize)
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("peer-tokio: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };

    let name = w.name;
    let start = Instant::now();
    let result = rt.block_on(async move { tokio::spawn(run(name, size)).await });
    let elapsed = start.elapsed();

    let (check, mut extra, err) = match result {
        Ok(Ok((check, extra))) => (check, extra, None),
        Ok(Err(e)) => (0, String::new(), Some(e)),
        Err(e) => (0, String::new(), Some(format!("root task: {e}"))),
    };
    if let Some(e) = &err {
        eprintln!("peer-tokio: {}: {}", w.name, e);
    }
    if w.name == "ping-pong" && err.is_none() {
        extra = format!("msgs_per_sec={:.0}", (2 * check) as f64 / elapsed.as_secs_f64());
    }
    let ok = err.is_none() && check == (w.expected)(size);
    let mut line = format!(
        "workload={} workers={} size={} check={} ok={} elapsed_ns={}",
        w.name,
        workers,
        size,
        check,
        ok as i32,
        elapsed.as_nanos()
    );
    if !extra.is_empty() {
        line.push_str(" extra=");
        line.push_str(&extra);
    }
    println!("{line}");
    // Leave without waiting for tasks still parked (Go's and Erlang's
    // peers do not wait for theirs either).
    rt.shutdown_background();
    std::process::exit(if ok { 0 } else { 1 });
}
