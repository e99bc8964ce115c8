// Peer benchmark for snow-rt: the CAF (C++ Actor Framework 0.17) side.
//
// Build (from the top of the source tree; $out is the output directory):
//
//   g++ -O2 -std=c++17 -o "$out/peer-caf" bench/caf/peer.cpp -lcaf_core -pthread
//
// Needs Debian's libcaf-dev (CAF 0.17.x) and g++.
//
// Usage:
//
//   peer-caf [-workers N] <workload> [size] [workers]
//
// Workers is CAF's scheduler.max-threads, the number of scheduler threads
// that run event-based actors (default: std::thread::hardware_concurrency,
// as Go's default GOMAXPROCS). The scheduler policy is CAF's work-sharing
// one: one queue for all threads, idle threads sleep on its condition
// variable. CAF's default, work stealing, is not used: in CAF 0.17 a steal
// (double_ended_queue::take_tail) walks the victim's whole queue under its
// locks, so a workload that queues many actors at once goes quadratic with
// 2 threads (spawn-flat 1,000,000: over 120 s; resident 100,000: 32 s).
// CAF_PEER_POLICY=stealing selects it all the same, for comparison. Size
// defaults to the full size of the workload, as in bench/go/peer.go, which
// is the specification of every workload here.
//
// Prints exactly one result line on stdout:
//
//   workload=<name> workers=<N> size=<S> check=<v> ok=<1|0> elapsed_ns=<ns> [extra=...]
//
// Exit status: 0 ok, 1 failed check (or runtime error), 2 bad arguments.
//
// Every actor is an event-based (stackless) CAF actor run by the scheduler
// threads; the main thread only starts the workload and then sleeps in a
// scoped_actor's receive until the workload reports its result. The timed
// region is the same as the Go peer's: from before the first spawn to the
// result, including the time the last message takes to reach main.

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---------------------------------------------------------------- atoms

using result_atom = caf::atom_constant<caf::atom("result")>;
using step_atom = caf::atom_constant<caf::atom("step")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using settle_atom = caf::atom_constant<caf::atom("settle")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using exited_atom = caf::atom_constant<caf::atom("exited")>;
using next_atom = caf::atom_constant<caf::atom("next")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using hops_atom = caf::atom_constant<caf::atom("hops")>;
using up_atom = caf::atom_constant<caf::atom("up")>;

constexpr int fanout = 10;
constexpr int yield_actors = 1000;
constexpr int ring_actors = 1000;
constexpr int64_t max_size_limit = int64_t{1} << 40;

// ---------------------------------------------------------------- helpers

int log10exact(int64_t s) {
  int d = 0;
  while (s > 1) {
    if (s % 10 != 0)
      return -1;
    s /= 10;
    ++d;
  }
  return s == 1 ? d : -1;
}

int64_t share(int64_t total, int n, int i) {
  int64_t q = total / n, r = total % n;
  return i < r ? q + 1 : q;
}

// VmRSS from /proc/self/status, in bytes (-1 on failure).
int64_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 6, "VmRSS:") == 0)
      return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return -1;
}

// What every workload reports to main: (result_atom, check, extra).
template <class Self>
void report(Self* self, const caf::actor& main, int64_t check,
            std::string extra = std::string()) {
  self->send(main, result_atom::value, check, std::move(extra));
}

// A WaitGroup, as the Go peer uses for the spawn workloads: the actor that
// brings the count to zero tells main.
struct wait_group {
  std::atomic<int64_t> pending;
  std::atomic<int64_t> value{0};
  caf::actor main;
  wait_group(int64_t n, caf::actor m) : pending(n), main(std::move(m)) {}
  template <class Self>
  void done(Self* self) {
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1)
      report(self, main, value.load(std::memory_order_relaxed));
  }
};

// -------------------------------------------------------------- spawn-tree
// Every actor above the leaf depth spawns 10 children; each leaf adds its
// index to a shared atomic sum. The actors have no behavior: each ends as
// soon as its start-up function returns. A wait group (one count per
// actor) tells main when the last has run.

struct tree_ctx : wait_group {
  int depth;
  tree_ctx(caf::actor m, int d) : wait_group(1, std::move(m)), depth(d) {}
};

void tree_node(caf::event_based_actor* self, tree_ctx* c, int level,
               int64_t index) {
  if (level == c->depth) {
    c->value.fetch_add(index, std::memory_order_relaxed);
  } else {
    c->pending.fetch_add(fanout, std::memory_order_relaxed);
    int64_t base = index * fanout;
    for (int i = 0; i < fanout; ++i)
      self->spawn(tree_node, c, level + 1, base + i);
  }
  c->done(self);
}

// -------------------------------------------------------------- spawn-flat
// A spawner actor spawns S trivial actors; each adds one to a counter.

void flat_child(caf::event_based_actor* self, wait_group* c) {
  c->value.fetch_add(1, std::memory_order_relaxed);
  c->done(self);
}

void flat_spawner(caf::event_based_actor* self, wait_group* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    self->spawn(flat_child, c);
}

// ------------------------------------------------------------- yield-storm
// CAF has no yield: an event-based actor gives its thread back by returning
// from its handler. The idiom for "do one step, let others run, go on" is
// an actor that sends itself a message per step. Each of 1000 actors does
// S/1000 steps that way; the scheduler's max-throughput is 1 for this
// workload (see main), so that every step goes back through the scheduler's
// queue instead of being handled in the same run of the actor.

struct yield_state {
  int64_t done = 0;
};

caf::behavior yielder(caf::stateful_actor<yield_state>* self, wait_group* c,
                      int64_t n) {
  if (n == 0) {
    c->done(self);
    return {};
  }
  self->send(self, step_atom::value);
  return {
    [=](step_atom) {
      if (++self->state.done < n) {
        self->send(self, step_atom::value);
        return;
      }
      c->value.fetch_add(self->state.done, std::memory_order_relaxed);
      c->done(self);
      self->quit();
    },
  };
}

void yield_spawner(caf::event_based_actor* self, wait_group* c,
                   int64_t size) {
  for (int i = 0; i < yield_actors; ++i)
    self->spawn(yielder, c, share(size, yield_actors, i));
}

// ---------------------------------------------------------------- resident
// S actors each tell the runner they are up and wait for a release
// message. RSS is sampled before spawning and once all are waiting and
// 500 ms have passed (a delayed message to the runner: it does not hold a
// scheduler thread).

constexpr auto resident_settle = std::chrono::milliseconds(500);

caf::behavior resident_kid(caf::event_based_actor* self, caf::actor parent) {
  self->send(parent, ready_atom::value);
  return {
    [=](release_atom) {
      self->send(parent, exited_atom::value);
      self->quit();
    },
  };
}

struct resident_state {
  std::vector<caf::actor> kids;
  int64_t before = 0;
  int64_t with = 0;
  int64_t ready = 0;
  int64_t exited = 0;
  bool failed = false;
};

caf::behavior resident_runner(caf::stateful_actor<resident_state>* self,
                              caf::actor main, int64_t n) {
  auto& st = self->state;
  st.before = rss_bytes();
  st.failed = st.before < 0;
  st.kids.reserve(static_cast<size_t>(n));
  auto me = caf::actor_cast<caf::actor>(self);
  for (int64_t i = 0; i < n; ++i)
    st.kids.push_back(self->spawn(resident_kid, me));
  return {
    [=](ready_atom) {
      if (++self->state.ready == n)
        self->delayed_send(self, resident_settle, settle_atom::value);
    },
    [=](settle_atom) {
      auto& st = self->state;
      st.with = rss_bytes();
      st.failed = st.failed || st.with < 0;
      for (auto& k : st.kids)
        self->send(k, release_atom::value);
      st.kids.clear();
      st.kids.shrink_to_fit();
    },
    [=](exited_atom) {
      auto& st = self->state;
      if (++st.exited < n)
        return;
      if (st.failed) {
        std::fprintf(stderr, "peer: resident: cannot read VmRSS\n");
        report(self, main, -1);
      } else {
        report(self, main, st.exited,
               "rss_per_actor_bytes=" + std::to_string((st.with - st.before) / n));
      }
      self->quit();
    },
  };
}

// -------------------------------------------------------------- skynet-msg
// Like spawn-tree, but every node sends its subtree sum to its parent; the
// root's parent is main.

struct sky_state {
  int64_t sum = 0;
  int got = 0;
};

caf::behavior sky_node(caf::stateful_actor<sky_state>* self,
                       caf::actor parent, int levels_left, int64_t index) {
  if (levels_left == 0) {
    self->send(parent, index);
    return {};
  }
  auto me = caf::actor_cast<caf::actor>(self);
  int64_t base = index * fanout;
  for (int i = 0; i < fanout; ++i)
    self->spawn(sky_node, me, levels_left - 1, base + i);
  return {
    [=](int64_t v) {
      self->state.sum += v;
      if (++self->state.got == fanout) {
        self->send(parent, self->state.sum);
        self->quit();
      }
    },
  };
}

// --------------------------------------------------------------- ping-pong
// Two actors bounce a counter S times. The ponger answers each message by
// returning v + 1 from its handler, which CAF sends back to the sender. The
// pinger monitors the ponger and reports once it has stopped (the Go peer
// waits for its ponger to finish too).

caf::behavior ponger(caf::event_based_actor* self) {
  return {
    [](int64_t v) { return v + 1; },
    [=](stop_atom) { self->quit(); },
  };
}

struct ping_state {
  int64_t trips = 0;
  caf::actor pong;
};

caf::behavior pinger(caf::stateful_actor<ping_state>* self, caf::actor main,
                     int64_t n) {
  self->state.pong = self->spawn<caf::monitored>(ponger);
  self->set_down_handler([=](caf::down_msg&) {
    report(self, main, self->state.trips);
    self->quit();
  });
  self->send(self->state.pong, int64_t{0});
  return {
    [=](int64_t v) {
      auto& st = self->state;
      if (v != st.trips + 1) {
        std::fprintf(stderr, "peer: ping-pong: sent %" PRId64 " got %" PRId64 "\n",
                     st.trips, v);
        self->send(st.pong, stop_atom::value);
        return;
      }
      if (++st.trips == n)
        self->send(st.pong, stop_atom::value);
      else
        self->send(st.pong, st.trips);
    },
  };
}

// -------------------------------------------------------------------- ring
// 1000 actors in a ring pass a token carrying the number of hops still to
// go; each counts the hops it forwards. The node receiving 0 tells the
// runner, which stops every node; each reports its hops to the runner.

struct ring_state {
  caf::actor next;
  int64_t hops = 0;
};

caf::behavior ring_node(caf::stateful_actor<ring_state>* self,
                        caf::actor runner) {
  return {
    [=](next_atom, caf::actor& next) { self->state.next = std::move(next); },
    [=](int64_t t) {
      if (t == 0) {
        self->send(runner, done_atom::value);
        return;
      }
      self->send(self->state.next, t - 1);
      ++self->state.hops;
    },
    [=](stop_atom) {
      self->send(runner, hops_atom::value, self->state.hops);
      self->quit();
    },
  };
}

struct ring_runner_state {
  std::vector<caf::actor> nodes;
  int64_t total = 0;
  int reported = 0;
};

caf::behavior ring_runner(caf::stateful_actor<ring_runner_state>* self,
                          caf::actor main, int64_t n) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  for (int i = 0; i < ring_actors; ++i)
    st.nodes.push_back(self->spawn(ring_node, me));
  for (int i = 0; i < ring_actors; ++i)
    self->send(st.nodes[i], next_atom::value, st.nodes[(i + 1) % ring_actors]);
  self->send(st.nodes[0], n);
  return {
    [=](done_atom) {
      for (auto& a : self->state.nodes)
        self->send(a, stop_atom::value);
      self->state.nodes.clear();
    },
    [=](hops_atom, int64_t h) {
      self->state.total += h;
      if (++self->state.reported == ring_actors) {
        report(self, main, self->state.total);
        self->quit();
      }
    },
  };
}

// ------------------------------------------------------------ service-call
// A server actor answers each request with n + 1; a client actor makes S
// requests in turn with request(...).then(...), the event-based way to
// call a service in CAF, each next request made from the previous reply.

caf::behavior server(caf::event_based_actor*) {
  return {
    [](int64_t n) { return n + 1; },
  };
}

struct client_state {
  caf::actor server;
  caf::actor main;
  int64_t calls = 0;
  int64_t n = 0;
};

void client_finish(caf::stateful_actor<client_state>* self) {
  auto& st = self->state;
  self->send_exit(st.server, caf::exit_reason::user_shutdown);
  report(self, st.main, st.calls);
  self->quit();
}

void client_call(caf::stateful_actor<client_state>* self) {
  auto& st = self->state;
  if (st.calls == st.n) {
    client_finish(self);
    return;
  }
  int64_t i = st.calls;
  self->request(st.server, caf::infinite, i)
    .then(
      [=](int64_t v) {
        if (v != i + 1) {
          std::fprintf(stderr, "peer: service-call: call %" PRId64 " got %" PRId64 "\n",
                       i, v);
          client_finish(self);
          return;
        }
        ++self->state.calls;
        client_call(self);
      },
      [=](caf::error& err) {
        std::fprintf(stderr, "peer: service-call: %s\n",
                     self->system().render(err).c_str());
        client_finish(self);
      });
}

caf::behavior client(caf::stateful_actor<client_state>* self, caf::actor main,
                     int64_t n) {
  auto& st = self->state;
  st.server = self->spawn(server);
  st.main = std::move(main);
  st.n = n;
  client_call(self);
  return {
    [](stop_atom) {},  // nothing else arrives but the replies
  };
}

// ------------------------------------------------------------- sup-restart
// CAF 0.17 has no supervisor, so this is the small one a CAF user writes:
// an actor that spawns its worker monitored and spawns a new one from its
// down handler each time the worker ends. The worker tells the runner it is
// up; the runner kills it (exit_reason::kill) S times, each time waiting for
// the next worker to be up, then stops the supervisor, which kills its
// current worker as it goes.

caf::behavior sup_worker(caf::event_based_actor* self, caf::actor runner) {
  self->send(runner, up_atom::value, caf::actor_cast<caf::actor>(self));
  return {
    [](stop_atom) {},  // waits to be killed
  };
}

struct sup_state {
  caf::actor child;
};

caf::behavior supervisor(caf::stateful_actor<sup_state>* self,
                         caf::actor runner) {
  auto start = [=] {
    self->state.child = self->spawn<caf::monitored>(sup_worker, runner);
  };
  self->set_down_handler([=](caf::down_msg&) { start(); });
  start();
  return {
    [=](stop_atom) {
      self->demonitor(self->state.child);
      self->send_exit(self->state.child, caf::exit_reason::kill);
      self->quit();
    },
  };
}

struct sup_runner_state {
  caf::actor sup;
  int64_t restarts = 0;
};

caf::behavior sup_runner(caf::stateful_actor<sup_runner_state>* self,
                         caf::actor main, int64_t n) {
  self->state.sup = self->spawn(supervisor, caf::actor_cast<caf::actor>(self));
  return {
    [=](up_atom, caf::actor& worker) {
      auto& st = self->state;
      if (st.restarts == n) {
        self->send(st.sup, stop_atom::value);
        report(self, main, st.restarts);
        self->quit();
        return;
      }
      self->send_exit(worker, caf::exit_reason::kill);
      ++st.restarts;
    },
  };
}

// ------------------------------------------------------------------- table

struct workload {
  const char* name;
  int64_t def_size;
  bool pow10;
  // Starts the workload; it reports to main when done. ctx is scratch
  // memory for a wait group that main keeps until the system has stopped.
  caf::actor (*start)(caf::actor_system&, const caf::actor& main, int64_t size,
                std::unique_ptr<wait_group>& ctx);
  int64_t (*expected)(int64_t);
};

int64_t triangular(int64_t s) { return s * (s - 1) / 2; }
int64_t identity(int64_t s) { return s; }

caf::actor start_spawn_tree(caf::actor_system& sys, const caf::actor& main,
                      int64_t size, std::unique_ptr<wait_group>& ctx) {
  auto c = new tree_ctx(main, log10exact(size));
  ctx.reset(c);
  return sys.spawn(tree_node, c, 0, int64_t{0});
}

caf::actor start_spawn_flat(caf::actor_system& sys, const caf::actor& main,
                      int64_t size, std::unique_ptr<wait_group>& ctx) {
  ctx.reset(new wait_group(size, main));
  return sys.spawn(flat_spawner, ctx.get(), size);
}

caf::actor start_yield_storm(caf::actor_system& sys, const caf::actor& main,
                       int64_t size, std::unique_ptr<wait_group>& ctx) {
  ctx.reset(new wait_group(yield_actors, main));
  return sys.spawn(yield_spawner, ctx.get(), size);
}

caf::actor start_resident(caf::actor_system& sys, const caf::actor& main,
                    int64_t size, std::unique_ptr<wait_group>&) {
  return sys.spawn(resident_runner, main, size);
}

caf::actor start_skynet(caf::actor_system& sys, const caf::actor& main, int64_t size,
                  std::unique_ptr<wait_group>&) {
  return sys.spawn(sky_node, main, log10exact(size), int64_t{0});
}

caf::actor start_ping_pong(caf::actor_system& sys, const caf::actor& main,
                     int64_t size, std::unique_ptr<wait_group>&) {
  return sys.spawn(pinger, main, size);
}

caf::actor start_ring(caf::actor_system& sys, const caf::actor& main, int64_t size,
                std::unique_ptr<wait_group>&) {
  return sys.spawn(ring_runner, main, size);
}

caf::actor start_service_call(caf::actor_system& sys, const caf::actor& main,
                        int64_t size, std::unique_ptr<wait_group>&) {
  return sys.spawn(client, main, size);
}

caf::actor start_sup_restart(caf::actor_system& sys, const caf::actor& main,
                       int64_t size, std::unique_ptr<wait_group>&) {
  return sys.spawn(sup_runner, main, size);
}

const workload workloads[] = {
  {"spawn-tree", 1000000, true, start_spawn_tree, triangular},
  {"spawn-flat", 1000000, false, start_spawn_flat, identity},
  {"yield-storm", 10000000, false, start_yield_storm, identity},
  {"resident", 100000, false, start_resident, identity},
  {"skynet-msg", 1000000, true, start_skynet, triangular},
  {"ping-pong", 1000000, false, start_ping_pong, identity},
  {"ring", 10000000, false, start_ring, identity},
  {"service-call", 1000000, false, start_service_call, identity},
  {"sup-restart", 100000, false, start_sup_restart, identity},
};

// -------------------------------------------------------------------- main

void usage() {
  std::fprintf(stderr, "usage: peer-caf [-workers N] <workload> [size] [workers]\n"
                       "workloads (default size):\n");
  for (auto& w : workloads)
    std::fprintf(stderr, "  %-12s (%" PRId64 "%s)\n", w.name, w.def_size,
                 w.pow10 ? ", power of 10" : "");
}

[[noreturn]] void bad_args(const char* fmt, const char* a = "",
                           int64_t b = 0) {
  std::fprintf(stderr, "peer: ");
  std::fprintf(stderr, fmt, a, b);
  std::fprintf(stderr, "\n");
  usage();
  std::exit(2);
}

int64_t parse_positive(const char* what, const char* s) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > max_size_limit) {
    std::fprintf(stderr, "peer: bad %s \"%s\" (want a positive integer)\n",
                 what, s);
    usage();
    std::exit(2);
  }
  return v;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<const char*> args;
  int64_t workers = 0;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!std::strcmp(a, "-h") || !std::strcmp(a, "-help")
        || !std::strcmp(a, "--help")) {
      usage();
      return 2;
    } else if (!std::strcmp(a, "-workers") || !std::strcmp(a, "--workers")) {
      if (i + 1 >= argc)
        bad_args("%s needs a value", a);
      workers = parse_positive("workers", argv[++i]);
    } else if (!std::strncmp(a, "-workers=", 9)
               || !std::strncmp(a, "--workers=", 10)) {
      workers = parse_positive("workers", std::strchr(a, '=') + 1);
    } else if (a[0] == '-' && a[1] != '\0') {
      bad_args("unknown option \"%s\"", a);
    } else {
      args.push_back(a);
    }
  }
  if (args.empty() || args.size() > 3)
    bad_args("expected <workload> [size] [workers]");
  const workload* w = nullptr;
  for (auto& x : workloads)
    if (!std::strcmp(x.name, args[0]))
      w = &x;
  if (w == nullptr)
    bad_args("unknown workload \"%s\"", args[0]);
  int64_t size = w->def_size;
  if (args.size() >= 2)
    size = parse_positive("size", args[1]);
  if (w->pow10 && log10exact(size) < 0)
    bad_args("%s: size %" PRId64 " is not a power of 10", w->name, size);
  if (w->pow10 && size > 1000000000)
    bad_args("%s: size %" PRId64 " too large", w->name, size);
  if ((!std::strcmp(w->name, "resident") || !std::strcmp(w->name, "spawn-flat"))
      && size > 2147483647)
    bad_args("%s: size %" PRId64 " too large", w->name, size);
  if (args.size() == 3) {
    int64_t n = parse_positive("workers", args[2]);
    if (workers != 0 && workers != n)
      bad_args("conflicting -workers and workers argument%s %" PRId64, "", n);
    workers = n;
  }
  if (workers == 0)
    workers = std::max(1u, std::thread::hardware_concurrency());

  caf::actor_system_config cfg;
  // Work sharing, not CAF's default work stealing: see the top of the file.
  const char* policy = std::getenv("CAF_PEER_POLICY");
  if (policy == nullptr || !*policy)
    policy = "sharing";
  if (std::strcmp(policy, "stealing") && std::strcmp(policy, "sharing"))
    bad_args("CAF_PEER_POLICY must be stealing or sharing, not \"%s\"", policy);
  cfg.set("scheduler.policy", caf::atom_from_string(policy));
  cfg.set("scheduler.max-threads", static_cast<size_t>(workers));
  // An actor that sends itself a message would otherwise handle it in the
  // same run (max-throughput is unbounded by default): with 1, each step of
  // yield-storm is a trip through the scheduler, as a yield is. The
  // environment variable CAF_PEER_THROUGHPUT overrides it (diagnostics).
  size_t throughput = 0;
  if (!std::strcmp(w->name, "yield-storm"))
    throughput = 1;
  if (const char* e = std::getenv("CAF_PEER_THROUGHPUT"))
    throughput = static_cast<size_t>(std::strtoull(e, nullptr, 10));
  if (throughput > 0)
    cfg.set("scheduler.max-throughput", throughput);

  int64_t check = -1;
  std::string extra;
  int64_t elapsed_ns = 0;
  size_t nworkers = 0;
  std::unique_ptr<wait_group> ctx;
  {
    caf::actor_system sys{cfg};
    nworkers = sys.scheduler().num_workers();
    {
      caf::scoped_actor self{sys};
      auto main_handle = caf::actor_cast<caf::actor>(self);
      auto t0 = std::chrono::steady_clock::now();
      // Main keeps a handle to the actor it starts until the result is in:
      // an actor that no handle refers to may end as unreachable.
      auto root = w->start(sys, main_handle, size, ctx);
      self->receive(
        [&](result_atom, int64_t c, std::string& e) {
          check = c;
          extra = std::move(e);
        },
        [&](int64_t c) { check = c; });  // skynet-msg's root sends its sum
      auto t1 = std::chrono::steady_clock::now();
      elapsed_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    }
    // Leaving this scope stops the actor system: it waits for every actor
    // to have terminated, then joins its threads.
  }

  if (!std::strcmp(w->name, "ping-pong") && elapsed_ns > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "msgs_per_sec=%.0f",
                  2.0 * static_cast<double>(check) * 1e9
                    / static_cast<double>(elapsed_ns));
    extra = buf;
  }
  bool ok = check == w->expected(size);
  std::printf("workload=%s workers=%zu size=%" PRId64 " check=%" PRId64
              " ok=%d elapsed_ns=%" PRId64 "%s%s\n",
              w->name, nworkers, size, check, ok ? 1 : 0, elapsed_ns,
              extra.empty() ? "" : " extra=", extra.c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}
