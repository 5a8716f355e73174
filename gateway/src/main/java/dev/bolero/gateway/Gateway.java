package dev.bolero.gateway;

import dev.bolero.api.http.ClientLimits;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletionStage;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.ssl.X509;

/**
 * A running gateway: an HTTP listener (HTTP/1.1 and h2c) and optionally an HTTPS listener (SNI, ALPN h2 and
 * HTTP/1.1) in front of the machines its {@link RouteTable} lists. Stateless apart from each machine's load and
 * failure history, so any number can run side by side.
 */
public final class Gateway implements AutoCloseable {
    private static final char[] KEY_PASSWORD = "bolero".toCharArray();
    /**
     * Selectors on each side (clients, machines): half the cores each, so one thread per core in all. The selector
     * threads do all the proxying (see {@link InliningThreadPool}); more of them only add context switches.
     */
    static final int SELECTORS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);

    private final Server server;
    private final ServerConnector http;
    private final ServerConnector https;
    private final SslContextFactory.Server tls;
    private final Balancer balancer;
    private final RouteTable table;
    private volatile boolean closed;

    private Gateway(Builder builder) throws IOException {
        this.table = builder.table;
        this.balancer = new Balancer(builder.outlierPolicy, System::nanoTime);
        var threads = new InliningThreadPool(builder.maxThreads, Math.min(8, builder.maxThreads));
        threads.setName("gateway");
        // No reserved threads: handing work to a parked spare costs a context switch, the gateway's main cost.
        threads.setReservedThreads(0);
        server = new Server(threads);
        var config = httpConfiguration();
        http = new ServerConnector(server, 1, SELECTORS, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
        bind(http, builder.httpListen);
        server.addConnector(http);
        if (builder.httpsListen != null) {
            tls = new SslContextFactory.Server();
            tls.setKeyStore(keyStore(aliased(builder.certificates)));
            tls.setSNISelector(this::sniSelect);
            tls.setKeyStorePassword(new String(KEY_PASSWORD));
            tls.setKeyManagerPassword(new String(KEY_PASSWORD));
            var secure = httpConfiguration();
            secure.addCustomizer(new SecureRequestCustomizer(false));
            var alpn = new ALPNServerConnectionFactory("h2", "http/1.1");
            alpn.setDefaultProtocol("http/1.1");
            https = new ServerConnector(server, 1, SELECTORS, new SslConnectionFactory(tls, alpn.getProtocol()), alpn,
                    new HTTP2ServerConnectionFactory(secure), new HttpConnectionFactory(secure));
            bind(https, builder.httpsListen);
            server.addConnector(https);
        } else {
            tls = null;
            https = null;
        }
        var handler = new GatewayHandler(table, balancer, builder.waker, builder.wakeTimeout, builder.connectTimeout,
                () -> https == null ? 0 : https.getLocalPort(), builder.challenges);
        server.setHandler(handler);
        builder.clientLimits.applyTo(server, request -> false);
        balancer.follow(table.current());
        followTable(table.nextChange());
    }

    public static Builder builder(RouteTable table) {
        return new Builder(table);
    }

    /** The port the HTTP listener is bound to. */
    public int httpPort() {
        return http.getLocalPort();
    }

    /** The port the HTTPS listener is bound to, if there is one. */
    public OptionalInt httpsPort() {
        return https == null ? OptionalInt.empty() : OptionalInt.of(https.getLocalPort());
    }

    /** Every machine the routes list, with its requests in flight and how long it has been idle. */
    public List<BackendActivity> activity() {
        return balancer.activity();
    }

    /**
     * Serves {@code certificates} to new TLS connections from now on (a tenant's upload, an ACME renewal), each under
     * the host name it was obtained for. A client's SNI name gets the certificate obtained for it when there is one,
     * else one whose leaf names it (an exact name before a wildcard), so two wildcards for one domain, each obtained
     * for another host, do not stand in for each other.
     *
     * @throws IOException when the gateway has no HTTPS listener or the certificates cannot be loaded
     */
    public void replaceCertificates(Map<String, CertifiedKey> certificates) throws IOException {
        if (certificates.isEmpty()) {
            throw new IOException("replace certificates: none given");
        }
        if (tls == null) {
            throw new IOException("replace certificates: this gateway has no HTTPS listener");
        }
        KeyStore store = keyStore(certificates);
        try {
            tls.reload(factory -> factory.setKeyStore(store));
        } catch (Exception e) {
            throw new IOException("replace certificates: " + e.getMessage(), e);
        }
    }

    /** The certificate obtained for {@code sniHost}, if its leaf names it; else Jetty's choice among those that do. */
    private String sniSelect(String keyType, Principal[] issuers, SSLSession session, String sniHost,
                             Collection<X509> certificates) throws SSLHandshakeException {
        if (sniHost != null) {
            for (X509 certificate : certificates) {
                if (certificate.getAlias().equalsIgnoreCase(sniHost) && certificate.matches(sniHost)) {
                    return certificate.getAlias();
                }
            }
        }
        return tls.sniSelect(keyType, issuers, session, sniHost, certificates);
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stop gateway: " + e.getMessage(), e);
        }
    }

    private void followTable(CompletionStage<Routes> change) {
        change.thenAccept(routes -> {
            if (!closed) {
                balancer.follow(table.current());
                followTable(table.nextChange());
            }
        });
    }

    private static HttpConfiguration httpConfiguration() {
        var config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        config.setSendDateHeader(false);
        return config;
    }

    private static void bind(ServerConnector connector, InetSocketAddress address) {
        connector.setHost(address.getHostString());
        connector.setPort(address.getPort());
        connector.setAcceptQueueSize(1024);
    }

    /** Certificates obtained for no host in particular, under aliases no host name has ({@code cert-0}, …). */
    private static Map<String, CertifiedKey> aliased(List<CertifiedKey> certificates) {
        var aliased = new LinkedHashMap<String, CertifiedKey>();
        for (CertifiedKey certificate : certificates) aliased.put("cert-" + aliased.size(), certificate);
        return aliased;
    }

    private static KeyStore keyStore(Map<String, CertifiedKey> certificates) throws IOException {
        try {
            var store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (var entry : certificates.entrySet()) {
                store.setKeyEntry(entry.getKey(), entry.getValue().key(), KEY_PASSWORD,
                        entry.getValue().chain().toArray(new java.security.cert.Certificate[0]));
            }
            return store;
        } catch (GeneralSecurityException e) {
            throw new IOException("load TLS certificates: " + e.getMessage(), e);
        }
    }

    /** Configures a {@link Gateway}; by default HTTP on 127.0.0.1 with a free port, no HTTPS, no waker. */
    public static final class Builder {
        private final RouteTable table;
        private InetSocketAddress httpListen = new InetSocketAddress("127.0.0.1", 0);
        private InetSocketAddress httpsListen;
        private final List<CertifiedKey> certificates = new ArrayList<>();
        private Waker waker = Waker.NONE;
        private Http01Challenges challenges = new Http01Challenges();
        private Duration wakeTimeout = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(2);
        private OutlierPolicy outlierPolicy = OutlierPolicy.DEFAULT;
        private int maxThreads = Math.max(16, 4 * Runtime.getRuntime().availableProcessors());
        private ClientLimits clientLimits = ClientLimits.DEFAULT;

        private Builder(RouteTable table) {
            this.table = Objects.requireNonNull(table, "table");
        }

        public Builder httpListen(InetSocketAddress address) {
            this.httpListen = Objects.requireNonNull(address, "address");
            return this;
        }

        /**
         * Listens for HTTPS too, serving these certificates by SNI; with none, a self-signed placeholder until
         * {@link Gateway#replaceCertificates} (a {@link CertificateKeeper} issuing them on demand).
         */
        public Builder httpsListen(InetSocketAddress address, List<CertifiedKey> certificates) {
            this.httpsListen = Objects.requireNonNull(address, "address");
            this.certificates.clear();
            this.certificates.addAll(certificates.isEmpty() ? List.of(DevelopmentCa.selfSigned("bolero-gateway"))
                    : certificates);
            return this;
        }

        /** Answers these ACME HTTP-01 challenges on the HTTP listener (by default none). */
        public Builder challenges(Http01Challenges challenges) {
            this.challenges = Objects.requireNonNull(challenges, "challenges");
            return this;
        }

        public Builder waker(Waker waker) {
            this.waker = Objects.requireNonNull(waker, "waker");
            return this;
        }

        /** How long a request for a fleet with {@code auto_start} waits for a machine before a 503. */
        public Builder wakeTimeout(Duration timeout) {
            this.wakeTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** How long connecting to a machine may take before the attempt counts as failed. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        public Builder outlierPolicy(OutlierPolicy policy) {
            this.outlierPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * The most threads serving connections (Jetty's pool, shared with the client side). Nothing on them blocks,
         * so few suffice: by default 4 per core, at least 16 — more only add context switches (bench/gateway.sh).
         */
        public Builder maxThreads(int maxThreads) {
            if (maxThreads < 8) {
                throw new IllegalArgumentException("gateway threads " + maxThreads + ": fewer than the 8 the listeners need");
            }
            this.maxThreads = maxThreads;
            return this;
        }

        /**
         * What a client may hold on either listener (by default {@link ClientLimits#DEFAULT}): a dripping client's
         * request holds a machine's slot under its fleet's concurrency limit, so this guards the machines too.
         */
        public Builder clientLimits(ClientLimits limits) {
            this.clientLimits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Binds the listeners and starts serving.
         *
         * @throws IOException when a listener cannot be bound or the certificates cannot be loaded
         */
        public Gateway start() throws IOException {
            var gateway = new Gateway(this);
            try {
                gateway.server.start();
            } catch (Exception e) {
                gateway.close();
                throw new IOException("start gateway on " + httpListen + ": " + e.getMessage(), e);
            }
            return gateway;
        }
    }
}
