package dev.bolero.agent.cluster;

import dev.bolero.client.BoleroClient;
import dev.bolero.gateway.ClusterGateway;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;

/**
 * A cluster gateway in its own JVM, for end-to-end tests that run it inside a node's network namespace (where the
 * node's machines are reached by their private addresses). Arguments: server URL, admin token, domain, listen host.
 * Prints {@code GATEWAY-PORT <port>} once it serves.
 */
public final class GatewayMain {
    private GatewayMain() {}

    public static void main(String[] args) throws Exception {
        var gateway = ClusterGateway.start(new BoleroClient(URI.create(args[0]), args[1]), args[2],
                builder -> builder.httpListen(new InetSocketAddress(args[3], 0)).wakeTimeout(Duration.ofSeconds(240)));
        System.out.println("GATEWAY-PORT " + gateway.gateway().httpPort());
        System.out.flush();
        Thread.currentThread().join();
    }
}
