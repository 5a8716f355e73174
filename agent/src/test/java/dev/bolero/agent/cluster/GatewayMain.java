package dev.bolero.agent.cluster;

import dev.bolero.client.BoleroClient;
import dev.bolero.gateway.ClusterGateway;
import dev.bolero.gateway.MeshLink;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A cluster gateway in its own JVM, for end-to-end tests that run it in a network namespace of its own, where it
 * reaches machines through the private network's mesh. Arguments: server URL, admin token, domain, listen host, key
 * file, link name, WireGuard endpoint ({@code IPv4:port}, whose port its link listens on). Prints
 * {@code GATEWAY-MESH <address>} once in the mesh and {@code GATEWAY-PORT <port>} once it serves; a SIGTERM leaves the
 * mesh (ending its registration and removing its link).
 */
public final class GatewayMain {
    private GatewayMain() {}

    public static void main(String[] args) throws Exception {
        var client = new BoleroClient(URI.create(args[0]), args[1]);
        var mesh = MeshLink.join(client, new MeshLink.Config(Path.of(args[4]), args[5],
                Integer.parseInt(args[6].substring(args[6].lastIndexOf(':') + 1)), args[6]));
        System.out.println("GATEWAY-MESH " + mesh.address());
        var gateway = ClusterGateway.start(client, args[2],
                builder -> builder.httpListen(new InetSocketAddress(args[3], 0)).wakeTimeout(Duration.ofSeconds(240)));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            mesh.close();
            System.out.println("GATEWAY-STOPPED");
            System.out.flush();
        }, "gateway-stop"));
        System.out.println("GATEWAY-PORT " + gateway.gateway().httpPort());
        System.out.flush();
        Thread.currentThread().join();
    }
}
