package dev.bolero.cli;

import dev.bolero.api.wire.CertificateUpload;
import dev.bolero.api.wire.Hostname;
import dev.bolero.api.wire.HostnameSpec;
import dev.bolero.client.ClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bolero certs add|ls|rm FLEET [HOSTNAME] [--cert F --key F]}: a fleet's custom host names and their
 * certificates. {@code add} attaches a name (the gateways get its certificate from their ACME server), or with
 * {@code --cert} and {@code --key} uploads the tenant's own: attaching the name with it, or replacing the certificate of
 * a name the fleet has already. The key is never printed, and the server never shows it again.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "Attach, list or detach a fleet's custom host names, with an uploaded certificate or ACME's.")
final class CertsCommand implements Callable<Integer> {
    private static final List<String> COLUMNS = List.of("HOSTNAME", "FLEET", "SOURCE", "NOT_AFTER", "FINGERPRINT");

    @Mixin ClientOptions o;
    @Parameters(index = "0", paramLabel = "ACTION", description = "add, ls or rm") String action;
    @Parameters(index = "1", paramLabel = "FLEET") String fleet;
    @Parameters(index = "2", arity = "0..1", paramLabel = "HOSTNAME", description = "add, rm: the host name")
    String hostname;
    @Option(names = "--cert", paramLabel = "FILE", description = "add: the PEM certificate chain, leaf first")
    Path cert;
    @Option(names = "--key", paramLabel = "FILE", description = "add: the leaf's unencrypted PEM private key")
    Path key;

    @Override
    public Integer call() throws IOException {
        var client = o.client();
        String ns = o.namespace();
        switch (action) {
            case "add" -> {
                String host = required(hostname);
                if ((cert == null) != (key == null)) {
                    throw new IllegalArgumentException("certs add: --cert and --key go together");
                }
                Hostname added;
                if (cert == null) {
                    added = client.attachHostname(ns, fleet, new HostnameSpec(host, null, null));
                } else {
                    var upload = new CertificateUpload(Files.readString(cert), Files.readString(key));
                    added = attached(ns, host)
                            ? client.uploadCertificate(ns, fleet, host, upload)
                            : client.attachHostname(ns, fleet, new HostnameSpec(host, upload.certificate(),
                                    upload.privateKey()));
                }
                o.print(added, List.of(added), COLUMNS, CertsCommand::row);
            }
            case "ls" -> {
                var list = client.hostnames(ns, fleet);
                o.print(list, list, COLUMNS, CertsCommand::row);
            }
            case "rm" -> client.detachHostname(ns, fleet, required(hostname));
            default -> throw new IllegalArgumentException("certs: unknown action " + action + " (add, ls, rm)");
        }
        return 0;
    }

    /** Whether the fleet has {@code host} already. */
    private boolean attached(String ns, String host) {
        try {
            o.client().hostname(ns, fleet, host);
            return true;
        } catch (ClientException e) {
            if (e.status() == 404) return false;
            throw e;
        }
    }

    private String required(String value) {
        if (value == null) throw new IllegalArgumentException("certs " + action + ": HOSTNAME is required");
        return value;
    }

    private static List<Object> row(Hostname h) {
        var uploaded = h.certificate();
        return Arrays.asList(h.hostname(), h.fleet(), h.source().wireName(),
                uploaded == null ? null : uploaded.notAfter(), uploaded == null ? null : uploaded.fingerprint());
    }
}
