%% The Erlang peer of the network benchmark: an echo server, one process
%% per connection, driven by bench/net/echoload.
%%
%% Build:  erlc -o <dir> echo_server.erl
%% Run:    erl -noshell -pa <dir> -s echo_server main PORT
%%
%% Listens on 127.0.0.1:PORT (0: a free port, chosen by the kernel),
%% prints "listening PORT" with the port it got once it accepts
%% connections, and writes every byte it reads on a connection back to
%% it.  An acceptor process spawns a handler per accepted socket; the
%% handler reads in passive mode ({active,false}): a process blocked in
%% gen_tcp:recv holds no queued messages, and the client sends the next
%% request only after the answer to the last, so nothing is lost to
%% flow control.
%%
%% Stops on SIGTERM (the VM's default: init:stop/0), or when its standard
%% input reaches its end, so that a server whose runner died does not
%% live on: the runner keeps stdin open as long as it wants the server.
%% Run it with stdin from /dev/null and it stops at once.
-module(echo_server).
-export([main/1]).

%% Connections the kernel queues for accept: more than echoload's 128
%% at once, so that a burst of connects is never refused.
-define(BACKLOG, 1024).

%% main([PORT]): PORT as an atom (from -s) or a string (from -run).
main([Port]) when is_atom(Port) ->
    main([atom_to_list(Port)]);
main([Port]) ->
    case string:to_integer(Port) of
        {N, ""} when N >= 0, N =< 65535 ->
            start(N);
        _ ->
            io:format(standard_error, "echo_server: bad PORT ~s~n", [Port]),
            halt(2)
    end;
main(_) ->
    io:format(standard_error, "usage: echo_server PORT~n", []),
    halt(2).

%% main/1 runs in the VM's boot, which must finish: the server runs in
%% processes of its own, and main returns.
start(Port) ->
    Self = self(),
    spawn(fun() -> listen(Port, Self) end),
    receive
        {listening, Got} ->
            spawn(fun stop_at_eof/0),
            io:format("listening ~b~n", [Got])
    after 10000 ->
        io:format(standard_error, "echo_server: no listener after 10 s~n", []),
        halt(1)
    end.

%% The acceptor owns the listening socket, so it opens it: a socket
%% closes when its owner ends.
listen(Port, Parent) ->
    Opts = [binary, {packet, raw}, {active, false}, {nodelay, true},
            {reuseaddr, true}, {ip, {127, 0, 0, 1}}, {backlog, ?BACKLOG}],
    case gen_tcp:listen(Port, Opts) of
        {ok, L} ->
            {ok, Got} = inet:port(L),
            Parent ! {listening, Got},
            accept(L);
        {error, Why} ->
            io:format(standard_error, "echo_server: listen: ~p~n", [Why]),
            halt(1)
    end.

accept(L) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive go -> echo(S) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! go,
            accept(L);
        {error, closed} ->
            ok;
        {error, Why} ->
            %% Out of descriptors (emfile), most likely: the connection
            %% waits in the backlog; say so and try again shortly.
            io:format(standard_error, "echo_server: accept: ~p~n", [Why]),
            timer:sleep(10),
            accept(L)
    end.

%% Each read returns what has arrived, whatever its size; it goes back
%% as it came.
echo(S) ->
    case gen_tcp:recv(S, 0) of
        {ok, Data} ->
            case gen_tcp:send(S, Data) of
                ok -> echo(S);
                {error, _} -> gen_tcp:close(S)
            end;
        {error, _} ->
            %% closed, or reset: the client is done
            gen_tcp:close(S)
    end.

stop_at_eof() ->
    case io:get_line('') of
        eof -> halt(0);
        {error, _} -> halt(0);
        _ -> stop_at_eof()
    end.
