// Peer benchmark for snow-rt: the Boost.Fiber side (Boost 1.74, Debian 12).
//
// Build (from the top of the source tree; $out is the output directory):
//
//   g++ -O2 -std=c++17 -o $out/peer-fiber bench/fiber/peer.cpp -lboost_fiber -lboost_context -pthread
//
// Usage:
//
//   peer-fiber [-workers N] <workload> [size] [workers]
//
// The same contract as bench/go/peer.go (the specification): the same
// workloads, sizes, checks and timed regions, one result line on stdout
//
//   workload=<name> workers=<N> size=<S> check=<v> ok=<1|0> elapsed_ns=<ns> [extra=...]
//
// and exit status 0 ok, 1 failed check (or runtime error), 2 bad arguments.
//
// How the peer is set up:
//
// - workers = 1: everything runs on the main thread, under Boost.Fiber's
//   default round_robin scheduler (the main thread's own fiber is the
//   "main goroutine"; no other thread exists).
// - workers = N > 1: the main thread plus N-1 std::threads, each running
//   boost::fibers::algo::work_stealing(N, suspend = true): fibers are
//   shared between the threads by stealing, and an idle thread sleeps on
//   a condition variable instead of spinning.  The extra threads park
//   their main fiber until the workload is over and are joined before
//   the process exits.  Beware: stock work_stealing wakes a sleeping
//   thread only when one of *its own* fibers is made ready by another
//   thread, never because new work appeared elsewhere; a helper thread
//   that fell asleep before the workload began (it usually has) may sleep
//   through it, and all the work then runs on the main thread.  Built
//   with -DPEER_FIBER_WAKE_IDLE, the peer instead uses a small subclass
//   of work_stealing that wakes a sleeping thread whenever a fiber
//   becomes ready (not the default: the stock algorithm is what a user
//   gets).
// - Every fiber gets a 64 KiB stack from boost::fibers::fixedsize_stack
//   (malloc/free underneath).  Not pooled_fixedsize_stack: its pool has no
//   lock, and with work stealing a fiber's stack may be freed on another
//   thread than the one that allocated it.
// - Mailboxes: Boost 1.74 no longer has unbounded_channel; its channels
//   are buffered_channel (bounded) and unbuffered_channel (rendezvous).  A
//   mailbox is a buffered_channel with room for 15 messages, more than
//   any of these workloads ever queues (10 at most), so a send never
//   waits; the peer checks this and fails the run if one ever found a
//   mailbox full.  (A hand-written unbounded queue, std::deque under a
//   fiber mutex + condition variable, cost about twice the CPU per
//   message in ping-pong and ring.)  Synchronous calls (service-call)
//   reply through a boost::fibers::promise / future per call.
// - Go's sync.WaitGroup and close(channel) broadcast are written the same
//   way (an atomic count or a flag, a fiber mutex and condition variable).
//
// Diagnostics go to stderr only.

#include <boost/fiber/all.hpp>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fibers = boost::fibers;

namespace {

constexpr std::size_t kStackSize = 64 * 1024;	// snow-rt's default
constexpr int kFanout = 10;
constexpr int kYieldActors = 1000;
constexpr int kRingActors = 1000;
constexpr int64_t kMaxSizeLimit = int64_t(1) << 40;
constexpr unsigned kMaxWorkers = 1024;
constexpr auto kResidentSettle = std::chrono::milliseconds(500);

// ---------------------------------------------------------------- helpers

// Starts a detached fiber with a 64 KiB stack.
template <typename F>
void spawn(F &&fn)
{
	fibers::fiber(std::allocator_arg, fibers::fixedsize_stack(kStackSize),
	    std::forward<F>(fn)).detach();
}

// Starts a fiber with a 64 KiB stack, to be joined.
template <typename F>
fibers::fiber spawn_joinable(F &&fn)
{
	return fibers::fiber(std::allocator_arg,
	    fibers::fixedsize_stack(kStackSize), std::forward<F>(fn));
}

// Go's sync.WaitGroup for fibers.  The notifier holds the mutex while it
// notifies, so the waiter may destroy the group as soon as it wakes.
class WaitGroup {
	std::atomic<int64_t> count_{0};
	fibers::mutex mtx_;
	fibers::condition_variable cv_;

public:
	void add(int64_t n) { count_.fetch_add(n, std::memory_order_relaxed); }

	void done()
	{
		if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
			std::lock_guard<fibers::mutex> lk(mtx_);
			cv_.notify_all();
		}
	}

	void wait()
	{
		std::unique_lock<fibers::mutex> lk(mtx_);
		cv_.wait(lk, [this] {
			return count_.load(std::memory_order_acquire) == 0;
		});
	}
};

// A one-shot broadcast, Go's close(chan struct{}).
class Gate {
	bool open_ = false;
	fibers::mutex mtx_;
	fibers::condition_variable cv_;

public:
	void open()
	{
		std::lock_guard<fibers::mutex> lk(mtx_);
		open_ = true;
		cv_.notify_all();
	}

	void wait()
	{
		std::unique_lock<fibers::mutex> lk(mtx_);
		cv_.wait(lk, [this] { return open_; });
	}
};

// A mailbox: Boost.Fiber's own channel, buffered_channel.  It is bounded,
// so it is made larger than any backlog these workloads can build (at
// most 10 messages: skynet-msg's children; 1 elsewhere) and the sender
// never waits.  push() checks that: a push that finds the mailbox full is
// counted, reported on stderr and fails the run (it then waits, as
// buffered_channel::push does).  pop() blocks until a message arrives, or
// returns false once the mailbox is closed and drained.
constexpr std::size_t kMailboxCapacity = 16;	// a power of 2; 15 usable
std::atomic<int64_t> g_full_mailbox{0};

template <typename T>
class Mailbox {
	fibers::buffered_channel<T> chan_{kMailboxCapacity};

public:
	void push(T v)
	{
		fibers::channel_op_status st = chan_.try_push(std::move(v));
		if (st == fibers::channel_op_status::full) {
			g_full_mailbox.fetch_add(1, std::memory_order_relaxed);
			st = chan_.push(std::move(v));
		}
		if (st != fibers::channel_op_status::success)
			throw std::runtime_error("push to a closed mailbox");
	}

	bool pop(T &out)
	{
		return chan_.pop(out) == fibers::channel_op_status::success;
	}

	void close() { chan_.close(); }
};

// d such that 10^d == s, or -1.
int log10exact(int64_t s)
{
	int d = 0;
	while (s > 1) {
		if (s % 10 != 0)
			return -1;
		s /= 10;
		d++;
	}
	return s == 1 ? d : -1;
}

// Splits total into n parts as evenly as possible; part i.
int64_t share(int64_t total, int n, int i)
{
	int64_t q = total / n, r = total % n;
	return i < r ? q + 1 : q;
}

// VmRSS from /proc/self/status, in bytes.
int64_t rss_bytes()
{
	FILE *f = std::fopen("/proc/self/status", "r");
	if (!f)
		throw std::runtime_error("cannot open /proc/self/status");
	char line[256];
	int64_t kb = -1;
	while (std::fgets(line, sizeof line, f)) {
		if (std::strncmp(line, "VmRSS:", 6) == 0) {
			kb = std::strtoll(line + 6, nullptr, 10);
			break;
		}
	}
	std::fclose(f);
	if (kb < 0)
		throw std::runtime_error("VmRSS not found in /proc/self/status");
	return kb * 1024;
}

struct Result {
	int64_t check = 0;
	std::string extra;
	std::string error;	// empty: no error
};

// -------------------------------------------------------------- workloads

// spawn-tree: every fiber above the leaf depth spawns 10 children; each
// leaf adds its index to a shared atomic sum.  The main fiber is the root.
// One WaitGroup tracks every spawned fiber.
struct SpawnTree {
	int depth;
	std::atomic<int64_t> sum{0};
	WaitGroup wg;

	void node(int level, int64_t index)
	{
		if (level == depth) {
			sum.fetch_add(index, std::memory_order_relaxed);
		} else {
			wg.add(kFanout);
			int64_t base = index * kFanout;
			for (int i = 0; i < kFanout; i++)
				spawn([this, level, base, i] {
					node(level + 1, base + i);
				});
		}
		wg.done();
	}
};

Result spawn_tree(int64_t size)
{
	SpawnTree t;
	t.depth = log10exact(size);
	t.wg.add(1);
	t.node(0, 0);	// the root runs in the calling (main) fiber
	t.wg.wait();
	return {t.sum.load(), "", ""};
}

// spawn-flat: main spawns S trivial fibers, each does an atomic add.
Result spawn_flat(int64_t size)
{
	std::atomic<int64_t> count{0};
	WaitGroup wg;
	wg.add(size);
	for (int64_t i = 0; i < size; i++)
		spawn([&] {
			count.fetch_add(1, std::memory_order_relaxed);
			wg.done();
		});
	wg.wait();
	return {count.load(), "", ""};
}

// yield-storm: 1000 fibers each call boost::this_fiber::yield() S/1000 times.
Result yield_storm(int64_t size)
{
	std::atomic<int64_t> total{0};
	WaitGroup wg;
	wg.add(kYieldActors);
	for (int a = 0; a < kYieldActors; a++) {
		int64_t n = share(size, kYieldActors, a);
		spawn([&total, &wg, n] {
			int64_t done = 0;
			for (; done < n; done++)
				boost::this_fiber::yield();
			total.fetch_add(done, std::memory_order_relaxed);
			wg.done();
		});
	}
	wg.wait();
	return {total.load(), "", ""};
}

// resident: S fibers parked on a shared gate, released all at once.  RSS
// is sampled before spawning and once all are parked and the settling
// time (the same in every system) has passed.
Result resident(int64_t size)
{
	int64_t before = rss_bytes();
	Gate release;
	WaitGroup started, exited;
	std::atomic<int64_t> count{0};
	started.add(size);
	exited.add(size);
	for (int64_t i = 0; i < size; i++)
		spawn([&] {
			started.done();
			release.wait();
			count.fetch_add(1, std::memory_order_relaxed);
			exited.done();
		});
	started.wait();
	boost::this_fiber::sleep_for(kResidentSettle);
	int64_t with = 0;
	std::string err;
	try {
		with = rss_bytes();
	} catch (const std::exception &e) {
		err = e.what();
	}
	release.open();
	exited.wait();
	if (!err.empty())
		return {0, "", err};
	int64_t per_actor = (with - before) / size;
	return {count.load(), "rss_per_actor_bytes=" + std::to_string(per_actor),
	    ""};
}

// skynet-msg: like spawn-tree, but every node sends its subtree sum to its
// parent's mailbox; the root (the main fiber) receives the total.
struct Skynet {
	int depth;

	void node(Mailbox<int64_t> *parent, int level, int64_t index)
	{
		if (level == depth) {
			parent->push(index);
			return;
		}
		Mailbox<int64_t> results;
		int64_t base = index * kFanout;
		for (int i = 0; i < kFanout; i++)
			spawn([this, &results, level, base, i] {
				node(&results, level + 1, base + i);
			});
		int64_t sum = 0;
		for (int i = 0; i < kFanout; i++) {
			int64_t v = 0;
			results.pop(v);
			sum += v;
		}
		parent->push(sum);
	}
};

Result skynet_msg(int64_t size)
{
	Skynet s{log10exact(size)};
	Mailbox<int64_t> root;
	s.node(&root, 0, 0);	// the root runs in the calling (main) fiber
	int64_t total = 0;
	root.pop(total);
	return {total, "", ""};
}

// ping-pong: two fibers bounce a counter back and forth S times over two
// mailboxes.  The main fiber is the pinger.
Result ping_pong(int64_t size)
{
	Mailbox<int64_t> ping, pong;
	fibers::fiber ponger = spawn_joinable([&] {
		int64_t v;
		while (ping.pop(v))
			pong.push(v + 1);
		pong.close();
	});
	int64_t trips = 0;
	std::string bad;
	for (int64_t i = 0; i < size; i++) {
		ping.push(i);
		int64_t v = -1;
		pong.pop(v);
		if (v != i + 1) {
			bad = "ping-pong: sent " + std::to_string(i) + " got " +
			    std::to_string(v);
			break;
		}
		trips++;
	}
	ping.close();
	for (int64_t v; pong.pop(v);)	// wait for the ponger to finish
		;
	ponger.join();
	return {trips, "", bad};
}

// ring: 1000 fibers in a ring pass a token carrying the number of hops
// still to go; each counts the hops it forwards.  The node receiving a 0
// token tells main, which closes every mailbox to stop the ring.
Result ring(int64_t size)
{
	std::vector<std::unique_ptr<Mailbox<int64_t>>> boxes;
	boxes.reserve(kRingActors);
	for (int i = 0; i < kRingActors; i++)
		boxes.emplace_back(new Mailbox<int64_t>);
	Mailbox<int> done;
	std::atomic<int64_t> total{0};
	WaitGroup wg;
	wg.add(kRingActors);
	for (int i = 0; i < kRingActors; i++) {
		Mailbox<int64_t> *in = boxes[i].get();
		Mailbox<int64_t> *out = boxes[(i + 1) % kRingActors].get();
		spawn([in, out, &done, &total, &wg] {
			int64_t hops = 0, t;
			while (in->pop(t)) {
				if (t == 0) {
					done.push(1);
					continue;
				}
				out->push(t - 1);
				hops++;
			}
			total.fetch_add(hops, std::memory_order_relaxed);
			wg.done();
		});
	}
	boxes[0]->push(size);
	int d;
	done.pop(d);
	for (auto &b : boxes)
		b->close();
	wg.wait();
	return {total.load(), "", ""};
}

// service-call: a server fiber answers requests from its mailbox with
// n + 1, through the promise that comes with each request (the future /
// promise pair a Boost.Fiber program makes for a synchronous call); the
// main fiber makes S calls in turn.
struct Request {
	int64_t n;
	fibers::promise<int64_t> reply;
};

Result service_call(int64_t size)
{
	Mailbox<Request> requests;
	fibers::fiber server = spawn_joinable([&] {
		Request r;
		while (requests.pop(r))
			r.reply.set_value(r.n + 1);
	});
	int64_t calls = 0;
	std::string bad;
	for (int64_t i = 0; i < size; i++) {
		Request r{i, {}};
		fibers::future<int64_t> f = r.reply.get_future();
		requests.push(std::move(r));
		int64_t v = f.get();
		if (v != i + 1) {
			bad = "service-call: call " + std::to_string(i) + " got " +
			    std::to_string(v);
			break;
		}
		calls++;
	}
	requests.close();
	server.join();
	return {calls, "", bad};
}

// sup-restart: Boost.Fiber has no supervisors; the nearest a user writes is
// a supervising fiber that starts its worker fiber, joins it (watches it
// end) and starts it again, until told to stop.  The worker tells the main
// fiber it is up by handing over the promise that kills it; main fails it
// S times, each time waiting for the next worker to be up.
Result sup_restart(int64_t size)
{
	Mailbox<fibers::promise<void>> up;
	std::atomic<bool> stop{false};
	fibers::fiber supervisor = spawn_joinable([&] {
		for (;;) {
			fibers::fiber worker = spawn_joinable([&] {
				fibers::promise<void> kill;
				fibers::future<void> killed = kill.get_future();
				up.push(std::move(kill));
				killed.get();	// fails when killed
			});
			worker.join();
			if (stop.load(std::memory_order_acquire))
				return;
		}
	});
	int64_t restarts;
	fibers::promise<void> kill;
	up.pop(kill);
	for (restarts = 0; restarts < size; restarts++) {
		kill.set_value();
		up.pop(kill);
	}
	stop.store(true, std::memory_order_release);
	kill.set_value();
	supervisor.join();
	return {restarts, "", ""};
}

// ------------------------------------------------------------------- main

int64_t triangular(int64_t s) { return s * (s - 1) / 2; }
int64_t identity(int64_t s) { return s; }

struct Workload {
	const char *name;
	int64_t def_size;
	bool pow10;	// size must be a power of 10
	Result (*run)(int64_t);
	int64_t (*expected)(int64_t);
};

const Workload kWorkloads[] = {
	{"spawn-tree", 1000000, true, spawn_tree, triangular},
	{"spawn-flat", 1000000, false, spawn_flat, identity},
	{"yield-storm", 10000000, false, yield_storm, identity},
	{"resident", 100000, false, resident, identity},
	{"skynet-msg", 1000000, true, skynet_msg, triangular},
	{"ping-pong", 1000000, false, ping_pong, identity},
	{"ring", 10000000, false, ring, identity},
	{"service-call", 1000000, false, service_call, identity},
	{"sup-restart", 100000, false, sup_restart, identity},
};

void usage()
{
	std::fprintf(stderr, "usage: peer-fiber [-workers N] <workload> [size] "
	    "[workers]\nworkloads (default size):\n");
	for (const Workload &w : kWorkloads)
		std::fprintf(stderr, "  %-12s (%" PRId64 "%s)\n", w.name,
		    w.def_size, w.pow10 ? ", power of 10" : "");
}

[[noreturn]] void bad_args(const std::string &msg)
{
	std::fprintf(stderr, "peer-fiber: %s\n", msg.c_str());
	usage();
	std::exit(2);
}

int64_t parse_positive(const char *what, const std::string &s)
{
	errno = 0;
	char *end = nullptr;
	long long v = std::strtoll(s.c_str(), &end, 10);
	if (s.empty() || errno != 0 || *end != '\0' || v <= 0 ||
	    v > kMaxSizeLimit)
		bad_args(std::string("bad ") + what + " \"" + s +
		    "\" (want a positive integer)");
	return v;
}

#ifdef PEER_FIBER_WAKE_IDLE
// Not the default (see the top of the file): work_stealing, plus what it
// lacks, waking a sleeping thread when a fiber becomes ready on another
// thread, so that the sleeper can steal it.  Stock work_stealing with
// suspend = true wakes a thread only when one of its own fibers is made
// ready from another thread.
class waking_work_stealing : public fibers::algo::work_stealing {
	static std::atomic<waking_work_stealing *> all_[kMaxWorkers];
	static std::atomic<unsigned> count_;
	std::atomic<bool> sleeping_{false};

public:
	explicit waking_work_stealing(std::uint32_t n) : work_stealing(n, true)
	{
		all_[count_.fetch_add(1)].store(this);
	}

	void awakened(fibers::context *ctx) noexcept override
	{
		work_stealing::awakened(ctx);
		unsigned n = count_.load(std::memory_order_relaxed);
		for (unsigned i = 0; i < n; i++) {
			waking_work_stealing *w = all_[i].load(
			    std::memory_order_relaxed);
			if (w != nullptr && w != this &&
			    w->sleeping_.load(std::memory_order_seq_cst) &&
			    w->sleeping_.exchange(false)) {
				w->notify();
				break;
			}
		}
	}

	void suspend_until(std::chrono::steady_clock::time_point const &tp)
	    noexcept override
	{
		sleeping_.store(true, std::memory_order_seq_cst);
		work_stealing::suspend_until(tp);
		sleeping_.store(false, std::memory_order_relaxed);
	}
};
std::atomic<waking_work_stealing *>
    waking_work_stealing::all_[kMaxWorkers];
std::atomic<unsigned> waking_work_stealing::count_{0};

void use_work_stealing(unsigned workers)
{
	fibers::use_scheduling_algorithm<waking_work_stealing>(workers);
}
#else
// Stock work_stealing; idle threads sleep (suspend = true).
void use_work_stealing(unsigned workers)
{
	fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(workers,
	    true);
}
#endif

// Runs the workload in the main fiber of the main thread, with workers-1
// further threads sharing the fibers; returns once every thread is joined.
Result run_on_workers(const Workload &w, int64_t size, unsigned workers,
    int64_t &elapsed_ns)
{
	std::vector<std::thread> helpers;
	// Tells the helper threads' main fibers that the workload is over.
	Gate finished;

	if (workers > 1) {
		for (unsigned i = 1; i < workers; i++)
			helpers.emplace_back([workers, &finished] {
				use_work_stealing(workers);
				finished.wait();
			});
		// Returns once all workers have registered.
		use_work_stealing(workers);
	}
	// workers == 1: Boost.Fiber's default round_robin on this thread.

	Result r;
	auto start = std::chrono::steady_clock::now();
	try {
		r = w.run(size);
	} catch (const std::exception &e) {
		r.error = e.what();
	}
	auto stop = std::chrono::steady_clock::now();
	elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
	    stop - start).count();

	finished.open();
	for (std::thread &t : helpers)
		t.join();
	return r;
}

}	// namespace

int main(int argc, char **argv)
{
	std::vector<std::string> args;
	int64_t workers = 0;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "-h" || a == "-help" || a == "--help") {
			usage();
			return 2;
		} else if (a == "-workers" || a == "--workers") {
			if (i + 1 >= argc)
				bad_args(a + " needs a value");
			workers = parse_positive("workers", argv[++i]);
		} else if (a.rfind("-workers=", 0) == 0 ||
		    a.rfind("--workers=", 0) == 0) {
			workers = parse_positive("workers",
			    a.substr(a.find('=') + 1));
		} else if (a.size() > 1 && a[0] == '-') {
			bad_args("unknown option \"" + a + "\"");
		} else {
			args.push_back(a);
		}
	}
	if (args.empty() || args.size() > 3)
		bad_args("expected <workload> [size] [workers]");

	const Workload *w = nullptr;
	for (const Workload &k : kWorkloads)
		if (args[0] == k.name)
			w = &k;
	if (!w)
		bad_args("unknown workload \"" + args[0] + "\"");

	int64_t size = w->def_size;
	if (args.size() >= 2)
		size = parse_positive("size", args[1]);
	if (w->pow10 && log10exact(size) < 0)
		bad_args(std::string(w->name) + ": size " +
		    std::to_string(size) + " is not a power of 10");
	if (w->pow10 && size > 1000000000)
		bad_args(std::string(w->name) + ": size " +
		    std::to_string(size) + " too large");
	if ((std::strcmp(w->name, "resident") == 0 ||
	    std::strcmp(w->name, "spawn-flat") == 0) && size > 2147483647)
		bad_args(std::string(w->name) + ": size " +
		    std::to_string(size) + " too large");

	if (args.size() == 3) {
		int64_t n = parse_positive("workers", args[2]);
		if (workers != 0 && workers != n)
			bad_args("conflicting -workers " +
			    std::to_string(workers) + " and workers argument " +
			    std::to_string(n));
		workers = n;
	}
	if (workers == 0) {	// as Go's GOMAXPROCS: one per CPU
		workers = std::thread::hardware_concurrency();
		if (workers < 1)
			workers = 1;
	}
	if (workers > kMaxWorkers)
		bad_args("too many workers");

	int64_t elapsed_ns = 0;
	Result r = run_on_workers(*w, size, (unsigned)workers, elapsed_ns);
	if (!r.error.empty())
		std::fprintf(stderr, "peer-fiber: %s: %s\n", w->name,
		    r.error.c_str());

	std::string extra = r.extra;
	if (std::strcmp(w->name, "ping-pong") == 0 && r.error.empty()) {
		char buf[64];
		double secs = (double)elapsed_ns / 1e9;
		std::snprintf(buf, sizeof buf, "msgs_per_sec=%.0f",
		    secs > 0 ? (double)(2 * r.check) / secs : 0.0);
		extra = buf;
	}

	if (g_full_mailbox.load() != 0) {
		std::fprintf(stderr, "peer-fiber: %s: %" PRId64 " sends found "
		    "the mailbox full\n", w->name, g_full_mailbox.load());
		if (r.error.empty())
			r.error = "mailbox full";
	}
	bool ok = r.error.empty() && r.check == w->expected(size);
	std::printf("workload=%s workers=%" PRId64 " size=%" PRId64
	    " check=%" PRId64 " ok=%d elapsed_ns=%" PRId64 "%s%s\n", w->name,
	    workers, size, r.check, ok ? 1 : 0, elapsed_ns,
	    extra.empty() ? "" : " extra=", extra.c_str());
	std::fflush(stdout);
	return ok ? 0 : 1;
}
