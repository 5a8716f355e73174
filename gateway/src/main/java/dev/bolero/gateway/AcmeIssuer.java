package dev.bolero.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * Issues certificates from an ACME server (RFC 8555) with acme4j, proving each host name by an HTTP-01 challenge
 * that the gateway answers ({@link Http01Challenges}). The account key is kept in {@code directory/account.key}
 * (mode 0600) and reused; each certificate gets a new P-256 key.
 */
public final class AcmeIssuer implements CertificateIssuer {
    static {
        // acme4j makes its keys and certificate requests with BouncyCastle's provider, by name.
        if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
            Security.addProvider(new BouncyCastleProvider());
        }
    }

    /** How long one validation or finalization may take. */
    static final Duration PATIENCE = Duration.ofSeconds(60);

    private final URI directoryUrl;
    private final Optional<String> email;
    private final Optional<Path> serverCa;
    private final Path accountKey;
    private final Http01Challenges challenges;
    private Account account;

    /**
     * @param directoryUrl the ACME server's directory ({@code https://acme-v02.api.letsencrypt.org/directory})
     * @param email the account's contact, if any
     * @param serverCa a PEM certificate to trust for the ACME server's own HTTPS (a test server's); empty: the JDK's
     * @param directory where the account key is kept
     */
    public AcmeIssuer(URI directoryUrl, Optional<String> email, Optional<Path> serverCa, Path directory,
                      Http01Challenges challenges) {
        this.directoryUrl = Objects.requireNonNull(directoryUrl, "directoryUrl");
        this.email = Objects.requireNonNull(email, "email");
        this.serverCa = Objects.requireNonNull(serverCa, "serverCa");
        this.accountKey = Objects.requireNonNull(directory, "directory").resolve("account.key");
        this.challenges = Objects.requireNonNull(challenges, "challenges");
    }

    @Override
    public synchronized CertifiedKey issue(String host) throws IOException, InterruptedException {
        String action = "ACME certificate for " + host + " from " + directoryUrl;
        try {
            Order order = account().newOrder().domain(host).create();
            for (Authorization authorization : order.getAuthorizations()) {
                if (authorization.getStatus() != Status.VALID) prove(authorization, action);
            }
            KeyPair key = KeyPairUtils.createECKeyPair("secp256r1");
            order.execute(key);
            if (order.waitForCompletion(PATIENCE) != Status.VALID) {
                throw new IOException(action + ": order ended " + order.getStatus()
                        + order.getError().map(p -> " (" + p + ")").orElse(""));
            }
            return new CertifiedKey(order.getCertificate().getCertificateChain(), key.getPrivate());
        } catch (AcmeException e) {
            throw new IOException(action + ": " + e.getMessage(), e);
        }
    }

    private void prove(Authorization authorization, String action)
            throws AcmeException, IOException, InterruptedException {
        Http01Challenge challenge = authorization.findChallenge(Http01Challenge.class).orElseThrow(() ->
                new IOException(action + ": the server offers no http-01 challenge"));
        challenges.put(challenge.getToken(), challenge.getAuthorization());
        try {
            challenge.trigger();
            if (authorization.waitForCompletion(PATIENCE) != Status.VALID) {
                throw new IOException(action + ": http-01 validation ended " + authorization.getStatus()
                        + challenge.getError().map(p -> " (" + p + ")").orElse(""));
            }
        } finally {
            challenges.remove(challenge.getToken());
        }
    }

    private Account account() throws AcmeException, IOException {
        if (account != null) return account;
        var builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKeyPair());
        email.ifPresent(builder::addEmail);
        account = builder.create(new Session(directoryUrl, new Provider(serverCa)));
        return account;
    }

    private KeyPair accountKeyPair() throws IOException {
        if (Files.exists(accountKey)) {
            try (Reader reader = Files.newBufferedReader(accountKey)) {
                return KeyPairUtils.readKeyPair(reader);
            }
        }
        KeyPair pair = KeyPairUtils.createECKeyPair("secp384r1");
        var text = new StringWriter();
        KeyPairUtils.writeKeyPair(pair, text);
        Files.createDirectories(accountKey.getParent());
        CertifiedKey.writePrivate(accountKey, text.toString());
        return pair;
    }

    /** Any ACME server, reached over HTTPS trusting {@code serverCa} when given. */
    private static final class Provider extends GenericAcmeProvider {
        private final Optional<Path> serverCa;

        Provider(Optional<Path> serverCa) {
            this.serverCa = serverCa;
        }

        @Override
        public HttpClient createHttpClient(NetworkSettings settings) {
            var client = HttpClient.newBuilder().connectTimeout(settings.getTimeout())
                    .followRedirects(HttpClient.Redirect.NORMAL);
            serverCa.ifPresent(ca -> client.sslContext(trusting(ca)));
            return client.build();
        }

        private static SSLContext trusting(Path ca) {
            try (InputStream in = Files.newInputStream(ca)) {
                var store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                int i = 0;
                for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    store.setCertificateEntry("ca-" + i++, (X509Certificate) certificate);
                }
                var trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(store);
                var context = SSLContext.getInstance("TLS");
                context.init(null, trust.getTrustManagers(), null);
                return context;
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("trust the ACME server's CA " + ca + ": " + e.getMessage(), e);
            }
        }
    }
}
