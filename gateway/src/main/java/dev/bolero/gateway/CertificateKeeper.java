package dev.bolero.gateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the gateway's HTTPS listener holding a certificate for every host name its routes answer to: when the routes
 * change it issues certificates for the new names (on demand, not per request), and every {@code recheck} it renews
 * those that expire within {@code renewBefore}. Issued certificates live in a directory as {@code <host>.pem} (chain)
 * and {@code <host>.key}, mode 0600, and are served again from there after a restart. A custom host name whose tenant
 * uploaded a certificate ({@link Routes#uploadedCertificate}) is served that one instead, fetched from
 * {@code uploads} whenever its fingerprint changes and kept in memory only; it is dropped with the name.
 */
public final class CertificateKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CertificateKeeper.class);
    /** How soon after a failed issue the keeper tries again. */
    static final Duration RETRY = Duration.ofSeconds(30);

    private final RouteTable table;
    private final Gateway gateway;
    private final CertificateIssuer issuer;
    private final CertificateIssuer uploads;
    private final Path directory;
    private final Duration renewBefore;
    private final Duration recheck;
    private final Clock clock;
    /** By host name: the certificate issued for it (its leaf may name others too). Only the keeper thread writes. */
    private final Map<String, CertifiedKey> held = new TreeMap<>();
    /** By custom host name: the certificate its tenant uploaded. Only the keeper thread writes. */
    private final Map<String, CertifiedKey> uploaded = new TreeMap<>();
    private final Thread keeper;
    private volatile boolean closed;

    private CertificateKeeper(RouteTable table, Gateway gateway, CertificateIssuer issuer, CertificateIssuer uploads,
                              Path directory, Duration renewBefore, Duration recheck, Clock clock) {
        this.table = table;
        this.gateway = gateway;
        this.issuer = issuer;
        this.uploads = uploads;
        this.directory = directory;
        this.renewBefore = renewBefore;
        this.recheck = recheck;
        this.clock = clock;
        this.keeper = Thread.ofVirtual().name("certificate-keeper").unstarted(this::run);
    }

    /**
     * Loads the certificates kept in {@code directory} into {@code gateway} and starts keeping them.
     *
     * @param issuer issues the certificates of host names without an uploaded one
     * @param uploads fetches the certificate a tenant uploaded for a custom host name
     * @param renewBefore how long before its expiry a certificate is renewed
     * @param recheck how often expiries are looked at
     * @throws IOException when the directory or a certificate in it cannot be read, or the gateway has no HTTPS
     *     listener
     */
    public static CertificateKeeper start(RouteTable table, Gateway gateway, CertificateIssuer issuer,
                                          CertificateIssuer uploads, Path directory, Duration renewBefore,
                                          Duration recheck) throws IOException {
        var keeper = new CertificateKeeper(Objects.requireNonNull(table, "table"), Objects.requireNonNull(gateway,
                "gateway"), Objects.requireNonNull(issuer, "issuer"), Objects.requireNonNull(uploads, "uploads"),
                Objects.requireNonNull(directory, "directory"),
                Objects.requireNonNull(renewBefore, "renewBefore"), Objects.requireNonNull(recheck, "recheck"),
                Clock.systemUTC());
        keeper.load();
        keeper.keeper.start();
        return keeper;
    }

    @Override
    public void close() {
        closed = true;
        Threads.stop(keeper);
    }

    private void load() throws IOException {
        Files.createDirectories(directory);
        try (var files = Files.list(directory)) {
            for (Path chain : files.filter(f -> f.getFileName().toString().endsWith(".pem")).sorted().toList()) {
                String host = chain.getFileName().toString().replaceFirst("\\.pem$", "");
                Path key = directory.resolve(host + ".key");
                if (Files.exists(key)) held.put(host, CertifiedKey.readPem(chain, key));
            }
        }
        if (!held.isEmpty()) gateway.replaceCertificates(held);
    }

    private void run() {
        while (!closed) {
            var change = table.nextChange().toCompletableFuture();
            boolean failed = keep(table.current());
            try {
                change.get((failed ? RETRY : recheck).toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // time to look at expiries (or to retry)
            } catch (InterruptedException e) {
                return;
            } catch (ExecutionException e) {
                throw new IllegalStateException("route changes never fail", e);
            }
        }
    }

    /** Issues or fetches what the routes' host names lack, or what expires soon; whether that failed for one. */
    private boolean keep(Routes routes) {
        boolean changed = false;
        boolean failed = false;
        for (String host : new TreeSet<>(routes.hosts())) {
            Optional<String> upload = routes.uploadedCertificate(host);
            if (upload.isPresent() ? upload.get().equals(fingerprint(uploaded.get(host)))
                    : held.values().stream().anyMatch(c -> c.covers(host) && fresh(c))) {
                continue;
            }
            try {
                if (upload.isPresent()) {
                    CertifiedKey fetched = uploads.issue(host);
                    uploaded.put(host, fetched);
                    log.info("uploaded certificate for {} served ({}), valid until {}", host, fetched.fingerprint(),
                            fetched.leaf().getNotAfter().toInstant());
                } else {
                    CertifiedKey issued = issuer.issue(host);
                    issued.writePem(directory.resolve(host + ".pem"), directory.resolve(host + ".key"));
                    held.put(host, issued);
                    log.info("certificate for {} issued, valid until {}", host,
                            issued.leaf().getNotAfter().toInstant());
                }
                changed = true;
            } catch (IOException | RuntimeException e) {
                failed = true;
                log.warn("certificate for {}: {}; trying again in {} s", host, e.toString(), RETRY.toSeconds());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        changed |= uploaded.keySet().removeIf(host -> routes.uploadedCertificate(host).isEmpty());
        if (changed) {
            try {
                gateway.replaceCertificates(served(routes));
            } catch (IOException e) {
                log.warn("serve the new certificates: {}", e.getMessage());
                return true;
            }
        }
        return failed;
    }

    /** By the host name each was obtained for: the uploaded certificates, and those issued for names without one. */
    private Map<String, CertifiedKey> served(Routes routes) {
        var served = new TreeMap<>(uploaded);
        held.forEach((host, certificate) -> {
            if (routes.uploadedCertificate(host).isEmpty()) served.put(host, certificate);
        });
        return served;
    }

    private static String fingerprint(CertifiedKey certificate) {
        return certificate == null ? null : certificate.fingerprint();
    }

    private boolean fresh(CertifiedKey certificate) {
        return certificate.leaf().getNotAfter().toInstant().isAfter(clock.instant().plus(renewBefore));
    }
}
