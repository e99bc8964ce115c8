%% Peer benchmark for snow-rt: the Erlang (BEAM process) side.
%%
%% NOTE: the module cannot be called `peer`: OTP 25+ ships a stdlib module
%% named peer that kernel calls during boot, so shadowing it with -pa stops
%% the VM from starting.
%%
%% Build:  erlc -o <dir> peer_bench.erl
%% Run:    erl +S N:N +P 2000000 -noshell -pa <dir> -s peer_bench main <workload> [<size>] -s init stop
%%
%% The number of workers is erlang:system_info(schedulers_online), i.e. the
%% +S flag. Size defaults to the full size of the workload. main/1 accepts
%% its arguments as atoms (from -s) or strings (from -run or a direct call).
%%
%% Prints exactly one result line on stdout:
%%   workload=<name> workers=<N> size=<S> check=<v> ok=<1|0> elapsed_ns=<ns> [extra=...]
%% and halts with status 0 (ok), 1 (failed check or runtime error) or
%% 2 (bad arguments / process limit too low for the requested size).
-module(peer_bench).
-export([main/0, main/1]).
-behaviour(gen_server).
-export([init/1, handle_call/3, handle_cast/2, start_kid/1]).

-define(FANOUT, 10).
-define(YIELD_ACTORS, 1000).
-define(RING_ACTORS, 1000).
-define(MAX_SIZE, 1 bsl 40).

%% {Name, DefaultSize, MustBePowerOf10}
workloads() ->
    [{"spawn-tree",  1000000,  true},
     {"spawn-flat",  1000000,  false},
     {"yield-storm", 10000000, false},
     {"resident",    100000,   false},
     {"skynet-msg",  1000000,  true},
     {"ping-pong",   1000000,  false},
     {"ring",        10000000, false},
     {"service-call", 1000000, false},
     {"sup-restart", 100000, false},
     {"overload",    1000,     false},
     {"scale",       1000000,  true}].

%% ------------------------------------------------------------------ entry

main() -> main([]).

main(Args0) ->
    Args = [to_string(A) || A <- Args0],
    {Name, Size} = parse_args(Args),
    Workers = erlang:system_info(schedulers_online),
    check_process_limit(Name, Size),
    %% Run the workload in a fresh process (not the init/start-up process
    %% that evaluates -s), so it starts with an empty mailbox and a default
    %% heap. The runner does its own timing.
    {Runner, Ref} = spawn_opt(fun() -> exit({result, run(Name, Size)}) end,
                              [monitor, {message_queue_data, mqd(Name)}]),
    Result = receive
                 {'DOWN', Ref, process, Runner, {result, R}} -> {ok, R};
                 {'DOWN', Ref, process, Runner, Reason} -> {error, Reason}
             end,
    {Check, Extra, Elapsed} =
        case Result of
            {ok, {C, E, T}} -> {C, E, T};
            {error, Why} ->
                io:format(standard_error, "peer: ~s: runner crashed: ~P~n",
                          [Name, Why, 30]),
                {-1, "", 0}
        end,
    Ok = Check =:= expected(Name, Size),
    Extra1 = case Name of
                 "ping-pong" when Elapsed > 0 ->
                     io_lib:format("msgs_per_sec=~B",
                                   [round(2 * Check * 1.0e9 / Elapsed)]);
                 _ -> Extra
             end,
    ExtraStr = case lists:flatten(Extra1) of
                   "" -> "";
                   X -> " extra=" ++ X
               end,
    io:format("workload=~s workers=~B size=~B check=~B ok=~B elapsed_ns=~B~s~n",
              [Name, Workers, Size, Check, bool_to_int(Ok), Elapsed, ExtraStr]),
    case Ok of
        true -> erlang:halt(0);
        false -> erlang:halt(1)
    end.

to_string(A) when is_atom(A) -> atom_to_list(A);
to_string(B) when is_binary(B) -> binary_to_list(B);
to_string(I) when is_integer(I) -> integer_to_list(I);
to_string(L) when is_list(L) -> L;
to_string(X) -> bad_args("unsupported argument ~p", [X]).

%% The runner of a fan-in workload receives up to S messages while it is
%% still spawning. With the default on_heap message queue every garbage
%% collection of the runner walks the whole queue, which makes the spawn
%% loop quadratic in S (spawn-flat 300k: ~13 s instead of ~0.2 s). off_heap
%% is the documented setting for processes that receive many messages.
mqd("spawn-flat") -> off_heap;
mqd("resident") -> off_heap;
mqd("scale") -> off_heap;
mqd(_) -> on_heap.

bool_to_int(true) -> 1;
bool_to_int(false) -> 0.

parse_args([Name, Size, Workers]) ->
    %% Optional third argument: the worker count the caller expects. It
    %% must match the +S setting, which is what actually decides it.
    Online = erlang:system_info(schedulers_online),
    case string:to_integer(Workers) of
        {Online, ""} -> parse_args([Name, Size]);
        _ -> bad_args("workers argument ~p does not match schedulers_online=~B "
                      "(start erl with +S ~s:~s)", [Workers, Online, Workers, Workers])
    end;
parse_args([Name | Rest]) when length(Rest) =< 1 ->
    case lists:keyfind(Name, 1, workloads()) of
        false ->
            bad_args("unknown workload ~p", [Name]);
        {_, Default, Pow10} ->
            Size = case Rest of
                       [] -> Default;
                       [S] -> parse_positive(S)
                   end,
            case Pow10 andalso log10_exact(Size) < 0 of
                true -> bad_args("~s: size ~B is not a power of 10", [Name, Size]);
                false -> ok
            end,
            {Name, Size}
    end;
parse_args(_) ->
    bad_args("expected <workload> [size [workers]]", []).

parse_positive(S) ->
    case string:to_integer(S) of
        {N, ""} when is_integer(N), N > 0, N =< ?MAX_SIZE -> N;
        _ -> bad_args("bad size ~p (want a positive integer)", [S])
    end.

bad_args(Fmt, Args) ->
    io:format(standard_error, "peer: " ++ Fmt ++ "~n", Args),
    usage(),
    erlang:halt(2).

usage() ->
    io:format(standard_error,
              "usage: erl +S N:N +P 2000000 -noshell -pa <dir> "
              "-s peer_bench main <workload> [size [workers]] -s init stop~n"
              "(workers, if given, must equal the +S scheduler count)~n"
              "workloads (default size):~n", []),
    [io:format(standard_error, "  ~-12s (~B~s)~n",
               [N, D, case P of true -> ", power of 10"; false -> "" end])
     || {N, D, P} <- workloads()],
    ok.

%% Workloads that keep many processes alive at once need +P large enough.
check_process_limit(Name, Size) ->
    Needed = case Name of
                 "spawn-tree" -> tree_nodes(Size);
                 "skynet-msg" -> tree_nodes(Size);
                 "resident"   -> Size;
                 "scale"      -> Size;
                 "overload"   -> Size + 1;
                 _ -> 0
             end,
    Limit = erlang:system_info(process_limit),
    Current = erlang:system_info(process_count),
    case Needed + Current + 16 > Limit of
        true ->
            io:format(standard_error,
                      "peer: ~s ~B needs up to ~B live processes but the process "
                      "limit is ~B; start erl with +P ~B~n",
                      [Name, Size, Needed, Limit, suggest_p(Needed)]),
            erlang:halt(2);
        false ->
            ok
    end.

suggest_p(N) -> max(2 * N, 1024).

tree_nodes(Leaves) -> tree_nodes(Leaves, 0).
tree_nodes(1, Acc) -> Acc + 1;
tree_nodes(N, Acc) -> tree_nodes(N div ?FANOUT, Acc + N).

expected("spawn-tree", S) -> S * (S - 1) div 2;
expected("skynet-msg", S) -> S * (S - 1) div 2;
expected(_, S) -> S.

log10_exact(1) -> 0;
log10_exact(N) when N rem 10 =:= 0 ->
    case log10_exact(N div 10) of
        -1 -> -1;
        D -> D + 1
    end;
log10_exact(_) -> -1.

%% Split Total into N parts as evenly as possible; part I (0-based).
share(Total, N, I) ->
    Q = Total div N,
    case I < Total rem N of
        true -> Q + 1;
        false -> Q
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

%% Returns {Check, Extra, ElapsedNs}.
run(Name, Size) ->
    T0 = now_ns(),
    {Check, Extra} = workload(Name, Size),
    T1 = now_ns(),
    {Check, Extra, T1 - T0}.

%% -------------------------------------------------------------- workloads

workload("spawn-tree", S) -> {tree_root(S), ""};
workload("skynet-msg", S) -> {tree_root(S), ""};
workload("spawn-flat", S) -> {spawn_flat(S), ""};
workload("yield-storm", S) -> {yield_storm(S), ""};
workload("resident", S) -> resident(S);
workload("ping-pong", S) -> {ping_pong(S), ""};
workload("ring", S) -> {ring(S), ""};
workload("service-call", S) -> {service_call(S), ""};
workload("sup-restart", S) -> {sup_restart(S), ""};
workload("overload", S) -> overload(S);
workload("scale", S) -> scale(S).

%% spawn-tree / skynet-msg: every process above the leaf depth spawns 10
%% children and sums the subtree sums they send back; leaves send their own
%% index. The calling (runner) process is the root.
tree_root(Leaves) ->
    node_sum(log10_exact(Leaves), 0).

node_sum(0, Index) ->
    Index;
node_sum(Levels, Index) ->
    Self = self(),
    Base = Index * ?FANOUT,
    spawn_children(Self, Levels - 1, Base, ?FANOUT),
    collect(?FANOUT, 0).

spawn_children(_Parent, _Levels, _Base, 0) ->
    ok;
spawn_children(Parent, Levels, Base, K) ->
    Index = Base + K - 1,
    spawn(fun() -> Parent ! node_sum(Levels, Index) end),
    spawn_children(Parent, Levels, Base, K - 1).

collect(0, Acc) -> Acc;
collect(K, Acc) ->
    receive
        N when is_integer(N) -> collect(K - 1, Acc + N)
    end.

%% spawn-flat: S trivial processes each send `done` to the parent.
spawn_flat(S) ->
    Parent = self(),
    spawn_flat(Parent, S),
    count_done(S, 0).

spawn_flat(_Parent, 0) -> ok;
spawn_flat(Parent, K) ->
    spawn(fun() -> Parent ! done end),
    spawn_flat(Parent, K - 1).

count_done(0, Acc) -> Acc;
count_done(K, Acc) ->
    receive
        done -> count_done(K - 1, Acc + 1)
    end.

%% yield-storm: 1000 processes each call erlang:yield() S/1000 times and
%% report how many yields they did.
yield_storm(S) ->
    Parent = self(),
    lists:foreach(
      fun(I) ->
              N = share(S, ?YIELD_ACTORS, I),
              spawn(fun() -> Parent ! {yielded, yield_loop(N, 0)} end)
      end, lists:seq(0, ?YIELD_ACTORS - 1)),
    sum_yields(?YIELD_ACTORS, 0).

yield_loop(0, Done) -> Done;
yield_loop(N, Done) ->
    erlang:yield(),
    yield_loop(N - 1, Done + 1).

sum_yields(0, Acc) -> Acc;
sum_yields(K, Acc) ->
    receive
        {yielded, N} -> sum_yields(K - 1, Acc + N)
    end.

%% resident: S processes each blocked in a receive until released.
resident(S) ->
    Before = rss_bytes(),
    Parent = self(),
    Pids = spawn_resident(Parent, S, []),
    wait_n(ready, S),
    %% Memory at rest: sampled once every process waits and the same
    %% settling time as the other systems has passed.
    timer:sleep(500),
    With = rss_bytes(),
    lists:foreach(fun(P) -> P ! release end, Pids),
    Exited = count_msg(exited, S, 0),
    PerActor = (With - Before) div S,
    {Exited, io_lib:format("rss_per_actor_bytes=~B", [PerActor])}.

spawn_resident(_Parent, 0, Acc) -> Acc;
spawn_resident(Parent, K, Acc) ->
    Pid = spawn(fun() ->
                        Parent ! ready,
                        receive release -> Parent ! exited end
                end),
    spawn_resident(Parent, K - 1, [Pid | Acc]).

wait_n(_Msg, 0) -> ok;
wait_n(Msg, K) ->
    receive Msg -> wait_n(Msg, K - 1) end.

count_msg(_Msg, 0, Acc) -> Acc;
count_msg(Msg, K, Acc) ->
    receive Msg -> count_msg(Msg, K - 1, Acc + 1) end.

rss_bytes() ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(Bin, <<"\n">>, [global]),
                   binary:part(L, 0, min(6, byte_size(L))) =:= <<"VmRSS:">>],
    <<"VmRSS:", Rest/binary>> = Line,
    [Kb | _] = string:lexemes(binary_to_list(Rest), " \t"),
    list_to_integer(Kb) * 1024.

%% ping-pong: the runner (pinger) and a ponger bounce a counter S times.
ping_pong(S) ->
    Self = self(),
    Ponger = spawn_link(fun() -> pong_loop() end),
    Trips = ping_loop(Ponger, Self, 0, S),
    Ref = monitor(process, Ponger),
    Ponger ! stop,
    receive {'DOWN', Ref, process, Ponger, _} -> ok end,
    Trips.

ping_loop(_Ponger, _Self, I, S) when I =:= S -> I;
ping_loop(Ponger, Self, I, S) ->
    Ponger ! {Self, I},
    Next = I + 1,
    receive
        Next -> ping_loop(Ponger, Self, Next, S)
    end.

pong_loop() ->
    receive
        {From, N} ->
            From ! N + 1,
            pong_loop();
        stop ->
            ok
    end.

%% ring: 1000 processes in a ring pass an integer token holding the number
%% of hops still to go. The process that receives 0 starts a `stop` wave
%% round the ring; every process reports how many hops it forwarded.
ring(S) ->
    Parent = self(),
    Pids = [spawn(fun() -> ring_init(Parent) end)
            || _ <- lists:seq(1, ?RING_ACTORS)],
    [First | _] = Pids,
    Nexts = tl(Pids) ++ [First],
    lists:foreach(fun({P, N}) -> P ! {next, N} end, lists:zip(Pids, Nexts)),
    First ! S,
    sum_hops(?RING_ACTORS, 0).

ring_init(Parent) ->
    receive
        {next, Next} -> ring_loop(Parent, Next, 0)
    end.

ring_loop(Parent, Next, Hops) ->
    receive
        0 ->
            Next ! stop,
            ring_loop(Parent, Next, Hops);
        T when is_integer(T) ->
            Next ! T - 1,
            ring_loop(Parent, Next, Hops + 1);
        stop ->
            Next ! stop,  % the last one lands on an exited process: harmless
            Parent ! {hops, Hops}
    end.

sum_hops(0, Acc) -> Acc;
sum_hops(K, Acc) ->
    receive
        {hops, H} -> sum_hops(K - 1, Acc + H)
    end.

%% service-call: the runner makes S gen_server:call/3 calls to a server
%% that answers N + 1, as an Erlang program calls a service.
service_call(S) ->
    {ok, Server} = gen_server:start_link(?MODULE, [], []),
    Calls = call_loop(Server, 0, S),
    gen_server:stop(Server),
    Calls.

call_loop(_Server, I, S) when I =:= S -> I;
call_loop(Server, I, S) ->
    Next = I + 1,
    case gen_server:call(Server, I, infinity) of
        Next -> call_loop(Server, Next, S);
        _ -> I
    end.

init([]) -> {ok, nil};
init({sup, Root, S}) ->
    Kid = #{id => kid, start => {?MODULE, start_kid, [Root]},
            restart => permanent, shutdown => brutal_kill, type => worker},
    {ok, {#{strategy => one_for_one, intensity => S + 1, period => 100000},
          [Kid]}}.
handle_call(N, _From, State) -> {reply, N + 1, State}.
handle_cast(_Msg, State) -> {noreply, State}.

%% sup-restart (with the logger off, see below): a one_for_one supervisor
%% of one permanent worker, which tells the runner it is up; the runner
%% kills it S times, each time waiting for the restarted one.  OTP keeps
%% every restart of the period in a list and walks it on each restart, so
%% its cost per restart grows with the intensity the run needs (S + 1):
%% the harness uses 1,000 restarts (about 17 us each here, against about 5
%% at 100, and 136 at 10,000).
sup_restart(S) ->
    %% snow-rt reports nothing on a restart: neither may OTP's logger,
    %% whose report per restart would cost more than the restart.
    logger:set_primary_config(level, none),
    process_flag(trap_exit, true),
    {ok, Sup} = supervisor:start_link(?MODULE, {sup, self(), S}),
    First = receive {kid, P} -> P end,
    N = restart_loop(First, 0, S),
    exit(Sup, shutdown),
    receive {'EXIT', Sup, _} -> ok end,
    N.

restart_loop(_Pid, I, S) when I =:= S -> I;
restart_loop(Pid, I, S) ->
    exit(Pid, kill),
    receive {kid, Next} -> restart_loop(Next, I + 1, S) end.

start_kid(Root) ->
    Pid = spawn_link(fun() -> Root ! {kid, self()}, receive _ -> ok end end),
    {ok, Pid}.

%% overload: Pony's overload example. S processes send as fast as they
%% can to one receiver for OVERLOAD_MS (run.sh sets it; 2000 when unset)
%% with plain `!`, to a mailbox that is unbounded as every Erlang mailbox
%% is (off_heap, as a process that receives this much should have); then
%% each sends `done` and ends. The receiver works a little on every message
%% (the same rounds as snow_bench.c) and counts the data messages until
%% every done is in. The stop flag and the sent total are an atomics array,
%% the nearest Erlang has to the other peers' shared atomics. msgs_per_sec
%% is over the whole run, the draining of the backlog included.
-define(OVERLOAD_DEFAULT_MS, 2000).
-define(OVERLOAD_ROUNDS, 14).

overload(S) ->
    Ms = overload_ms(),
    T0 = now_ns(),
    Runner = self(),
    Shared = atomics:new(2, []),            % 1: stop flag, 2: messages sent
    Receiver = spawn_opt(fun() ->
                                 Runner ! {received, overload_receive(S, 0, 0, 0)}
                         end, [{message_queue_data, off_heap}]),
    [spawn(fun() -> overload_send(Receiver, Shared, 0) end)
     || _ <- lists:seq(1, S)],
    timer:sleep(Ms),
    atomics:put(Shared, 1, 1),
    Got = receive {received, {G, _Acc}} -> G end,
    Extra = io_lib:format("msgs_per_sec=~B",
                          [round(Got * 1.0e9 / (now_ns() - T0))]),
    case atomics:get(Shared, 2) of
        Got -> {S, Extra};
        Sent ->
            io:format(standard_error, "peer: overload: ~B sent, ~B received~n",
                      [Sent, Got]),
            {0, Extra}
    end.

overload_ms() ->
    case os:getenv("OVERLOAD_MS") of
        false -> ?OVERLOAD_DEFAULT_MS;
        Env ->
            case string:to_integer(Env) of
                {Ms, ""} when Ms > 0 -> Ms;
                _ -> bad_args("bad OVERLOAD_MS ~p", [Env])
            end
    end.

overload_send(Receiver, Shared, N) ->
    case atomics:get(Shared, 1) of
        0 ->
            Receiver ! N,
            overload_send(Receiver, Shared, N + 1);
        _ ->
            %% Counted before the done, which the receiver ends on.
            atomics:add(Shared, 2, N),
            Receiver ! done
    end.

overload_receive(S, S, Got, Acc) -> {Got, Acc};
overload_receive(S, Dones, Got, Acc) ->
    receive
        done -> overload_receive(S, Dones + 1, Got, Acc);
        N when is_integer(N) ->
            overload_receive(S, Dones, Got + 1, Acc bxor overload_work(N))
    end.

%% Rounds of the Park-Miller generator: products below 2^47, so that the
%% integers stay small (no bignums), as in the other peers.
overload_work(V) -> overload_rounds(V rem 2147483646 + 1, ?OVERLOAD_ROUNDS).

overload_rounds(X, 0) -> X;
overload_rounds(X, K) -> overload_rounds(X * 48271 rem 2147483647, K - 1).

%% scale: parked processes from 10^4 up to S (a power of ten), each
%% resident's, measured at each power of ten as snow_bench.c does: the
%% spawns since the last one until each has said it is ready, per process,
%% and the RSS per process of all of them at rest, that is the resident
%% settling time and then until the RSS stops falling (snow-rt's stacks
%% take seconds to hibernate; the same rule here).
-define(SCALE_FIRST, 10000).
-define(SCALE_POLL_MS, 250).
-define(SCALE_SETTLE_MAX_MS, 20000).

scale(S) ->
    Before = rss_bytes(),
    {Pids, Parts} = scale_up(self(), min(S, ?SCALE_FIRST), S, 0, [], [], Before),
    lists:foreach(fun(P) -> P ! release end, Pids),
    Exited = count_msg(exited, length(Pids), 0),
    {Exited, lists:join(";", lists:reverse(Parts))}.

scale_up(_Parent, N, S, _Spawned, Pids, Parts, _Before) when N > S ->
    {Pids, Parts};
scale_up(Parent, N, S, Spawned, Pids0, Parts, Before) ->
    T0 = now_ns(),
    Pids = spawn_resident(Parent, N - Spawned, Pids0),
    wait_n(ready, N - Spawned),
    PerSpawn = (now_ns() - T0) / (N - Spawned),
    Rss = scale_rss_at_rest(),
    Part = io_lib:format("n=~B:ns_per_spawn=~B:bytes_per_actor=~B",
                         [N, round(PerSpawn), (Rss - Before) div N]),
    scale_up(Parent, N * 10, S, N, Pids, [Part | Parts], Before).

scale_rss_at_rest() ->
    timer:sleep(500),                       % resident's settling time
    scale_settle(rss_bytes(), 0).

scale_settle(Rss, Waited) when Waited >= ?SCALE_SETTLE_MAX_MS -> Rss;
scale_settle(Last, Waited) ->
    timer:sleep(?SCALE_POLL_MS),
    case rss_bytes() of
        %% Less than 1% given back in a poll: settled.
        Rss when Rss > Last - Last div 100 -> Rss;
        Rss -> scale_settle(Rss, Waited + ?SCALE_POLL_MS)
    end.
