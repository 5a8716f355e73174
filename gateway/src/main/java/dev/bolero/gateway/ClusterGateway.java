package dev.bolero.gateway;

import dev.bolero.api.wire.GatewayCertificate;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A gateway following a control plane: its routes from a {@link RouteFeed}, its wakes through a
 * {@link ControlPlaneWaker}, its idle machines stopped by an {@link IdleStopper}, and optionally its certificates kept
 * by a {@link CertificateKeeper}. What {@code bolero gateway} runs.
 */
public final class ClusterGateway implements AutoCloseable {
    /** How long one routes long poll waits on the server. */
    static final Duration POLL = Duration.ofSeconds(30);
    /** How often certificates' expiries are looked at. */
    static final Duration RECHECK_EXPIRY = Duration.ofHours(1);

    private final BoleroClient client;
    private final RouteTable table;
    private final RouteFeed feed;
    private final Gateway gateway;
    private final IdleStopper stopper;
    private volatile CertificateKeeper keeper;

    private ClusterGateway(BoleroClient client, RouteTable table, RouteFeed feed, Gateway gateway,
                           IdleStopper stopper) {
        this.client = client;
        this.table = table;
        this.feed = feed;
        this.gateway = gateway;
        this.stopper = stopper;
    }

    /**
     * Starts following the server {@code client} talks to (its token must be an admin's) and serving its fleets
     * under {@code domain}.
     *
     * @param listeners sets the gateway's listeners and limits (the table and the waker are set here)
     * @throws IOException when a listener cannot be bound or the certificates cannot be loaded
     */
    public static ClusterGateway start(BoleroClient client, String domain, UnaryOperator<Gateway.Builder> listeners)
            throws IOException {
        Objects.requireNonNull(listeners, "listeners");
        var table = new RouteTable(Routes.empty(domain));
        RouteFeed feed = RouteFeed.start(client, domain, table, POLL);
        Gateway gateway;
        try {
            gateway = listeners.apply(Gateway.builder(table)).waker(new ControlPlaneWaker(client, feed)).start();
        } catch (IOException | RuntimeException e) {
            feed.close();
            throw e;
        }
        return new ClusterGateway(client, table, feed, gateway, IdleStopper.start(client, feed, gateway));
    }

    public Gateway gateway() {
        return gateway;
    }

    /**
     * Keeps a certificate for every host name of the routes on the HTTPS listener ({@link CertificateKeeper}): the one
     * its tenant uploaded, fetched from the control plane, or else one issued by {@code issuer} and kept in
     * {@code directory}, renewed {@code renewBefore} its expiry.
     *
     * @throws IOException when the directory cannot be read or the gateway has no HTTPS listener
     */
    public void keepCertificates(CertificateIssuer issuer, Path directory, Duration renewBefore) throws IOException {
        if (keeper != null) throw new IllegalStateException("keep certificates: already kept");
        keeper = CertificateKeeper.start(table, gateway, issuer, this::uploadedCertificate, directory, renewBefore,
                RECHECK_EXPIRY);
    }

    /** The certificate a tenant uploaded for {@code host}, from the control plane. */
    private CertifiedKey uploadedCertificate(String host) throws IOException {
        try {
            GatewayCertificate certificate = client.gatewayCertificate(host);
            String source = "the control plane's certificate of " + host;
            return CertifiedKey.parsePem(certificate.certificate(), source, certificate.privateKey(), source);
        } catch (ClientException e) {
            throw new IOException("fetch the uploaded certificate of " + host + ": " + e.getMessage(), e);
        }
    }

    /** The routes requests follow now. */
    public Routes routes() {
        return table.current();
    }

    public RouteFeed feed() {
        return feed;
    }

    @Override
    public void close() {
        try {
            if (keeper != null) keeper.close();
            stopper.close();
            feed.close();
        } finally {
            gateway.close();
        }
    }
}
