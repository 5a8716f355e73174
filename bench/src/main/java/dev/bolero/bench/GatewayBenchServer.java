package dev.bolero.bench;

import dev.bolero.gateway.Backend;
import dev.bolero.gateway.Concurrency;
import dev.bolero.gateway.FleetKey;
import dev.bolero.gateway.Gateway;
import dev.bolero.gateway.Route;
import dev.bolero.gateway.RouteTable;
import dev.bolero.gateway.Routes;
import java.net.InetSocketAddress;

/**
 * The gateway as {@code bench/gateway.sh} runs it: one fleet ({@code web.bench.example.test}) of one machine, the
 * benchmark's backend, with concurrency limits above any connection count wrk uses. Prints {@code ready <port> <transport> <event loops>} once it listens, then serves until killed.
 *
 * <p>Usage: {@code GatewayBenchServer LISTEN_PORT BACKEND_HOST BACKEND_PORT EVENT_LOOPS [TRANSPORT]} (transport:
 * io_uring, epoll or nio, by default the gateway's own choice)
 */
public final class GatewayBenchServer {
    private GatewayBenchServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: GatewayBenchServer LISTEN_PORT BACKEND_HOST BACKEND_PORT EVENT_LOOPS "
                    + "[TRANSPORT]");
            System.exit(2);
        }
        var fleet = new FleetKey("bench", "web");
        // Limits above wrk's connections: nginx has none, and the bench compares proxying, not admission.
        var route = Route.builder(fleet)
                .backend(new Backend("backend", args[1], Integer.parseInt(args[2]), true))
                .concurrency(new Concurrency(1000, 1000))
                .build();
        var table = new RouteTable(Routes.builder("example.test").route(route).build());
        var builder = Gateway.builder(table).httpListen(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])));
        builder.eventLoops(Integer.parseInt(args[3]));
        if (args.length == 5) builder.transport(args[4]);
        var gateway = builder.start();
        System.out.println("ready " + gateway.httpPort() + " " + gateway.transport() + " " + gateway.eventLoops());
        Thread.currentThread().join();
    }
}
