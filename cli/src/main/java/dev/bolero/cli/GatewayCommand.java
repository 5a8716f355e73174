package dev.bolero.cli;

import dev.bolero.api.wire.NodeLink;
import dev.bolero.client.BoleroClient;
import dev.bolero.gateway.AcmeIssuer;
import dev.bolero.gateway.CertificateIssuer;
import dev.bolero.gateway.ClusterGateway;
import dev.bolero.gateway.DevelopmentCa;
import dev.bolero.gateway.Http01Challenges;
import dev.bolero.gateway.MeshLink;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bolero gateway}: serves the cluster's fleets over HTTP(S) until interrupted, following the control plane's
 * routes with an admin token. HTTPS certificates come from the development CA or an ACME server, issued for each
 * host name with a route, or are PEM files put in the certificate directory as {@code <host>.pem} and
 * {@code <host>.key}; a custom host name whose tenant uploaded a certificate ({@code bolero certs add}) is served that.
 */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = "Serve the cluster's fleets over HTTP(S): routing, load balancing, TLS, wake on request.")
final class GatewayCommand implements Callable<Integer> {
    @Mixin
    LogFormat logFormat;

    @Option(names = "--server", description = "control plane URL (or BOLERO_SERVER, or the config file)")
    String server;

    @Option(names = "--token", description = "an admin token (or BOLERO_TOKEN, or the config file)")
    String token;

    @Option(names = "--domain", required = true, description = "fleet FLEET of namespace NS answers to FLEET.NS.DOMAIN")
    String domain;

    @Option(names = "--http-listen", defaultValue = "127.0.0.1:8080", description = "host:port of plain HTTP (default ${DEFAULT-VALUE})")
    String httpListen;

    @Option(names = "--https-listen", description = "host:port of HTTPS; needs --dev-ca or --acme-directory")
    String httpsListen;

    @Option(names = "--cert-dir", defaultValue = "/var/lib/bolero-gateway", description = "certificates (certs/HOST.pem, certs/HOST.key, mode 0600), the development CA (dev-ca/) and the ACME account key (acme/) (default ${DEFAULT-VALUE})")
    Path certDir;

    @Option(names = "--dev-ca", description = "issue certificates from a local CA in CERT_DIR/dev-ca (clients trust its ca.pem)")
    boolean devCa;

    @Option(names = "--acme-directory", paramLabel = "URL", description = "issue certificates from this ACME server (HTTP-01 on --http-listen, which must be port 80 to the internet)")
    URI acmeDirectory;

    @Option(names = "--acme-email", description = "the ACME account's contact")
    String acmeEmail;

    @Option(names = "--acme-server-ca", paramLabel = "PEM", description = "trust this CA for the ACME server's HTTPS (a test server such as Pebble)")
    Path acmeServerCa;

    @Option(names = "--renew-before-days", defaultValue = "30", description = "renew a certificate this many days before it expires (default ${DEFAULT-VALUE})")
    int renewBeforeDays;

    @Option(names = "--wake-timeout", defaultValue = "30", description = "seconds a request for a fleet with auto_start waits for a machine (default ${DEFAULT-VALUE})")
    int wakeTimeoutSeconds;

    @Option(names = "--event-loops", paramLabel = "N", description = "event loops serving the listeners and the machine connections, 1 to 1024 (default: one per core; fewer leave cores to what shares the host)")
    Integer eventLoops;

    @Mixin
    ClientLimitFlags clientLimits;

    @Option(names = "--private-network-endpoint", paramLabel = "IP:PORT", description = "join the cluster's private network (its WireGuard mesh) as a peer, reached by the nodes at IP:PORT: machines are then reached by their private addresses from this host. The key is kept in CERT_DIR/wireguard.key")
    String privateNetworkEndpoint;

    @Option(names = "--private-network-listen-port", description = "the UDP port of the gateway's WireGuard link (default: the endpoint's port)")
    Integer privateNetworkListenPort;

    @Option(names = "--private-network-link", defaultValue = "blgw0", description = "the gateway's WireGuard interface, unique on the host (default ${DEFAULT-VALUE})")
    String privateNetworkLink;

    @Override
    public Integer call() throws Exception {
        var endpoint = new ClientOptions();
        endpoint.server = server;
        endpoint.token = token;
        var url = endpoint.endpoint();
        if (httpsListen != null && devCa == (acmeDirectory != null)) {
            throw new IllegalArgumentException("--https-listen needs one of --dev-ca and --acme-directory");
        }
        Path root = certDir.toAbsolutePath();
        var challenges = new Http01Challenges();
        CountDownLatch stopped = new CountDownLatch(1);
        var client = new BoleroClient(url.server(), url.token());
        try (var mesh = privateNetworkEndpoint == null ? null : MeshLink.join(client, meshConfig(root));
             var gateway = ClusterGateway.start(client, domain, builder -> {
            builder.httpListen(address("--http-listen", httpListen)).challenges(challenges)
                    .wakeTimeout(Duration.ofSeconds(wakeTimeoutSeconds)).clientLimits(clientLimits.limits());
            if (httpsListen != null) builder.httpsListen(address("--https-listen", httpsListen), List.of());
            if (eventLoops != null) builder.eventLoops(eventLoops);
            return builder;
        })) {
            if (httpsListen != null) {
                CertificateIssuer issuer = devCa ? DevelopmentCa.openOrCreate(root.resolve("dev-ca"))
                        : new AcmeIssuer(acmeDirectory, Optional.ofNullable(acmeEmail), Optional.ofNullable(acmeServerCa),
                                root.resolve("acme"), challenges);
                gateway.keepCertificates(issuer, root.resolve("certs"), Duration.ofDays(renewBeforeDays));
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                gateway.close();
                if (mesh != null) mesh.close();
                stopped.countDown();
            }, "gateway-shutdown"));
            System.out.printf("bolero gateway: %s, following %s%n", listening(gateway, domain), url.server());
            if (devCa) System.out.println("development CA: " + root.resolve("dev-ca/ca.pem"));
            if (mesh != null) {
                System.out.println("private network: " + mesh.address() + " on link " + mesh.linkName());
            }
            stopped.await();
        }
        return 0;
    }

    /** How the gateway joins the private network's mesh, from the flags. */
    MeshLink.Config meshConfig(Path root) {
        int port = privateNetworkListenPort != null ? privateNetworkListenPort : NodeLink.endpointPort(privateNetworkEndpoint);
        return new MeshLink.Config(root.resolve("wireguard.key"), privateNetworkLink, port, privateNetworkEndpoint);
    }

    /** {@code http on port 8080, https on port 8443, fleets under DOMAIN}: what a started gateway serves. */
    static String listening(ClusterGateway gateway, String domain) {
        return "http on port " + gateway.gateway().httpPort() + gateway.gateway().httpsPort().stream()
                .mapToObj(p -> ", https on port " + p).findFirst().orElse("") + ", fleets under " + domain;
    }

    /** The socket address of {@code hostPort}, given as {@code option}. */
    static InetSocketAddress address(String option, String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException(option + " must be host:port, got '" + hostPort + "'");
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
