package dev.bolero.server.cluster;

import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.TokenScope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's two fixed credentials: the admin token and the node join token. A token given by the operator
 * (environment) replaces the stored one. Otherwise the first server to start generates it, stores its hash and writes
 * it to {@code DATA_DIR/<kind>.token} (mode 0600); later starts reuse what the store has.
 */
public final class Bootstrap {
    private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);

    private Bootstrap() {}

    /** The namespace every cluster starts with, so that a first {@code bolero run} has somewhere to go. */
    public static final String DEFAULT_NAMESPACE = "default";

    /**
     * Creates the {@link #DEFAULT_NAMESPACE} unless the cluster has it; replicas starting together may race, and one
     * wins (the others' insert hits its unique key and is ignored).
     */
    public static void ensureDefaultNamespace(ServerStore store, Clock clock) {
        try {
            store.update("create the default namespace", tx -> {
                if (tx.namespaces().get(DEFAULT_NAMESPACE).isEmpty()) {
                    tx.namespaces().insert(DEFAULT_NAMESPACE, clock.instant());
                }
                return null;
            });
        } catch (dev.bolero.server.store.StoreException e) {
            if (store.read("read the default namespace", tx -> tx.namespaces().get(DEFAULT_NAMESPACE)).isEmpty()) {
                throw e;
            }
        }
    }

    /**
     * Ensures the credential {@code scope} ({@code admin} or {@code join}) exists, under the id of its name.
     *
     * @return the file holding the token, when this server's data directory has it
     * @throws UncheckedIOException when the token file cannot be read or written
     */
    public static Optional<Path> ensure(ServerStore store, Clock clock, Path dataDir, TokenScope scope,
                                        Optional<String> given) {
        String kind = scope.wireName();
        Path file = dataDir.resolve(kind + ".token");
        String action = "set up the " + kind + " token";
        if (given.isPresent()) {
            store.update(action, tx -> {
                tx.tokens().put(kind, Tokens.hash(given.get()), scope, clock.instant());
                return null;
            });
            return Optional.empty();
        }
        try {
            if (Files.exists(file)) {
                String token = Files.readString(file, StandardCharsets.UTF_8).strip();
                boolean inserted = store.update(action, tx ->
                        tx.tokens().insertIfAbsent(kind, Tokens.hash(token), scope, clock.instant()));
                boolean matches = store.read(action, tx -> tx.tokens().find(Tokens.hash(token)))
                        .filter(t -> t.id().equals(kind)).isPresent();
                if (!matches) log.warn("{} holds a token the cluster does not accept (another one is stored)", file);
                if (inserted) log.info("{} token restored from {}", kind, file);
                return Optional.of(file);
            }
            String token = Tokens.generate();
            boolean inserted = store.update(action, tx ->
                    tx.tokens().insertIfAbsent(kind, Tokens.hash(token), scope, clock.instant()));
            if (!inserted) {
                log.info("{} token already set by another server; it is in that server's data directory", kind);
                return Optional.empty();
            }
            Files.createDirectories(dataDir);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
            return Optional.of(file);
        } catch (FileAlreadyExistsException e) {
            throw new UncheckedIOException(action + ": " + file + " appeared meanwhile", e);
        } catch (IOException e) {
            throw new UncheckedIOException(action + ": " + file + ": " + e.getMessage(), e);
        }
    }
}
