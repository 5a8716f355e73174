package dev.bolero.gateway;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** Test helpers around certificates: temporary directories, and a client checking what a gateway serves by SNI. */
final class Tls {
    private Tls() {}

    static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A TLS context trusting only {@code roots}. */
    static SSLContext trusting(List<X509Certificate> roots) throws Exception {
        var store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        for (int i = 0; i < roots.size(); i++) store.setCertificateEntry("root-" + i, roots.get(i));
        var trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        var context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /**
     * Connects to an HTTPS listener on 127.0.0.1:{@code port} with SNI {@code host}, trusting only {@code root} and
     * checking the host name, until it serves a leaf whose serial is not {@code not} (null: any); checks that a request
     * through it reaches machine {@code machine} (the answer ends with its id), until it does. Waits at most 60 s.
     */
    static X509Certificate awaitServed(int port, String host, X509Certificate root, String machine, BigInteger not)
            throws Exception {
        SSLContext context = trusting(List.of(root));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Exception last = null;
        String lastAnswer = null;
        while (System.nanoTime() < deadline) {
            try (var raw = new Socket("127.0.0.1", port);
                 var socket = (SSLSocket) context.getSocketFactory().createSocket(raw, host, port, true)) {
                var parameters = socket.getSSLParameters();
                parameters.setServerNames(List.of(new SNIHostName(host)));
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                var leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                if (leaf.getSerialNumber().equals(not)) {
                    Thread.sleep(200);
                    continue;
                }
                OutputStream out = socket.getOutputStream();
                out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (answer.startsWith("HTTP/1.1 200") && answer.endsWith(machine)) return leaf;
                // Served, but this gateway's routes may not list the machine running yet: each gateway follows the
                // control plane on its own, so one can see a change up to a re-read later than another.
                lastAnswer = answer;
                Thread.sleep(200);
            } catch (IOException e) {
                last = e; // not served yet: a placeholder or another CA's certificate, not trusted
                Thread.sleep(200);
            }
        }
        throw new AssertionError(lastAnswer != null
                ? "a certificate for " + host + " was served but no request reached " + machine + " within 60 s; the last"
                        + " answer:\n" + lastAnswer
                : "no certificate under " + root.getSubjectX500Principal() + " served for " + host + " within 60 s",
                last);
    }
}
