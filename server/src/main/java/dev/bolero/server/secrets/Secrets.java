package dev.bolero.server.secrets;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.SecretInfo;
import dev.bolero.api.wire.SecretValue;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A namespace's secrets: write-only values, encrypted at rest. Each namespace gets a data key at its first secret,
 * stored wrapped by the server's current master key ({@link MasterKeys}); values are sealed with it
 * ({@link DataKey}), so the store, its WAL and its backups hold no value in clear. The API shows names, versions and
 * digests, never values. Thread-safe.
 */
public final class Secrets {
    private static final Logger log = LoggerFactory.getLogger(Secrets.class);

    private final ServerStore store;
    private final Clock clock;
    private final MasterKeys keys;

    public Secrets(ServerStore store, Clock clock, MasterKeys keys) {
        this.store = store;
        this.clock = clock;
        this.keys = keys;
    }

    /**
     * Creates secret {@code body.name()} in {@code namespace}.
     *
     * @throws ApiException {@code conflict} when it exists, {@code invalid_argument} without a name
     */
    public SecretInfo create(String namespace, SecretValue body) {
        String name = FieldPath.root().field("name").required(body.name());
        String action = "create secret " + namespace + "/" + name;
        return store.update(action, tx -> {
            if (tx.secrets().info(namespace, name).isPresent()) throw ApiException.conflict(action + ": it exists");
            DataKey key = dataKey(tx, namespace);
            byte[] value = bytes(body);
            tx.secrets().insert(namespace, name, key.seal(name, 1, value), key.digest(value), clock.instant());
            return tx.secrets().info(namespace, name).orElseThrow();
        });
    }

    /** Sets secret {@code name}'s value: a new version, or version 1 of a new secret. */
    public SecretInfo put(String namespace, String name, SecretValue body) {
        SecretValue.checkName(FieldPath.root().field("name"), name);
        String action = "set secret " + namespace + "/" + name;
        if (body.name() != null && !body.name().equals(name)) {
            throw ApiException.invalid(action + ": the body names '" + body.name() + "', the path '" + name + "'");
        }
        return store.update(action, tx -> {
            DataKey key = dataKey(tx, namespace);
            byte[] value = bytes(body);
            var current = tx.secrets().info(namespace, name);
            if (current.isEmpty()) {
                tx.secrets().insert(namespace, name, key.seal(name, 1, value), key.digest(value), clock.instant());
            } else {
                long version = current.get().version() + 1;
                tx.secrets().update(namespace, name, version, key.seal(name, version, value), key.digest(value),
                        clock.instant());
            }
            return tx.secrets().info(namespace, name).orElseThrow();
        });
    }

    /** One page of the namespace's secrets, by name. */
    public List<SecretInfo> list(String namespace, Page page) {
        return store.read("list secrets of " + namespace, tx -> tx.secrets().list(namespace, page));
    }

    /** @throws ApiException {@code not_found} */
    public SecretInfo get(String namespace, String name) {
        String action = "get secret " + namespace + "/" + name;
        return store.read(action, tx -> tx.secrets().info(namespace, name))
                .orElseThrow(() -> ApiException.notFound(action + ": no such secret"));
    }

    /** @throws ApiException {@code not_found} */
    public void delete(String namespace, String name) {
        String action = "delete secret " + namespace + "/" + name;
        if (!store.update(action, tx -> tx.secrets().delete(namespace, name))) {
            throw ApiException.notFound(action + ": no such secret");
        }
    }

    /**
     * Checks that every secret {@code secrets} names exists in {@code namespace}, so a machine config that names one
     * that does not fails where it is given (a machine's create, a fleet's create or update).
     *
     * @throws ApiException {@code invalid_argument}: {@code ACTION: config.secrets[1].name names no secret of
     *     namespace alpha: 'tls_key'}
     */
    public void checkExist(String action, String namespace, List<MachineSpec.Secret> secrets) {
        if (secrets.isEmpty()) return;
        store.read(action + ": read secrets", tx -> {
            checkExist(tx, action, namespace, secrets);
            return null;
        });
    }

    /** {@link #checkExist(String, String, List)}, reading the namespace's secrets in {@code tx}. */
    public static void checkExist(Tx tx, String action, String namespace, List<MachineSpec.Secret> secrets)
            throws SQLException {
        if (secrets.isEmpty()) return;
        Set<String> existing = tx.secrets().list(namespace).stream().map(SecretInfo::name)
                .collect(Collectors.toSet());
        for (int i = 0; i < secrets.size(); i++) {
            String name = secrets.get(i).name();
            if (!existing.contains(name)) {
                throw ApiException.invalid(action + ": " + FieldPath.CONFIG.field("secrets").index(i).field("name")
                        .invalid("names no secret of namespace " + namespace + ": '" + name + "'").getMessage());
            }
        }
    }

    /**
     * The current values of {@code names} in {@code namespace}, opened in {@code tx} for a node that runs a machine
     * using them. A name without a secret (deleted since) is left out, as is one that does not open (the store was
     * altered, or its master key is gone): that is logged, naming the secret, and the node's start of the machine
     * fails naming it.
     */
    public List<SecretValue> open(Tx tx, String namespace, Collection<String> names) throws SQLException {
        if (names.isEmpty()) return List.of();
        Optional<DataKey> key;
        try {
            key = existingKey(tx, namespace);
        } catch (SecretsException e) {
            log.warn("open secrets of {}: {}", namespace, e.getMessage());
            return List.of();
        }
        if (key.isEmpty()) return List.of();
        var values = new ArrayList<SecretValue>();
        for (String name : new TreeSet<>(names)) {
            var sealed = tx.secrets().sealed(namespace, name);
            if (sealed.isEmpty()) continue;
            try {
                byte[] value = key.get().open(name, sealed.get().version(), sealed.get().value());
                values.add(new SecretValue(name, new String(value, StandardCharsets.UTF_8)));
                java.util.Arrays.fill(value, (byte) 0);
            } catch (SecretsException e) {
                log.warn("open secret {}/{}: {}", namespace, name, e.getMessage());
            }
        }
        return values;
    }

    /**
     * Seals a private value of {@code namespace} that is not one of its secrets (a host name's TLS key) with the
     * namespace's data key, created at its first use. {@code label} names what holds the value and contains a '/', which
     * no secret's name does: a value sealed for one label, version or namespace opens for no other.
     *
     * @throws IllegalArgumentException when {@code label} has no '/'
     */
    public byte[] sealPrivate(Tx tx, String namespace, String label, long version, byte[] value) throws SQLException {
        return dataKey(tx, namespace).seal(privateLabel(label), version, value);
    }

    /**
     * Opens what {@link #sealPrivate} sealed for the same label and version.
     *
     * @throws SecretsException when it does not open (altered, misplaced, or its master key is gone)
     */
    public byte[] openPrivate(Tx tx, String namespace, String label, long version, byte[] sealed) throws SQLException {
        DataKey key = existingKey(tx, namespace).orElseThrow(() -> new SecretsException("open " + label + " of "
                + namespace + ": the namespace has no data key"));
        return key.open(privateLabel(label), version, sealed);
    }

    private static String privateLabel(String label) {
        if (label.indexOf('/') < 0) throw new IllegalArgumentException("private value " + label + ": needs a '/'");
        return label;
    }

    /**
     * Re-wraps every data key not wrapped by the current master key (after a rotation), each in its own
     * transaction, so the previous master keys can be dropped once it returns. Values are not touched.
     *
     * @return how many keys were re-wrapped
     */
    public int rewrapAll() {
        List<String> namespaces = store.read("list keyed namespaces", tx -> tx.secrets().keyedNamespaces());
        int rewrapped = 0;
        for (String ns : namespaces) {
            boolean done = store.update("re-wrap the data key of " + ns, tx -> {
                var wrapped = tx.secrets().wrappedKey(ns);
                if (wrapped.isEmpty()) return false;
                byte[] fresh = DataKey.unwrap(keys, ns, wrapped.get()).rewrapped(keys);
                if (fresh == null) return false;
                tx.secrets().updateKey(ns, fresh);
                return true;
            });
            if (done) rewrapped++;
        }
        if (rewrapped > 0) log.info("re-wrapped {} namespace data keys under master key {}", rewrapped, keys.currentId());
        return rewrapped;
    }

    private DataKey dataKey(Tx tx, String namespace) throws SQLException {
        var existing = existingKey(tx, namespace);
        if (existing.isPresent()) return existing.get();
        DataKey created = DataKey.create(keys, namespace);
        tx.secrets().insertKey(namespace, created.wrapped(), clock.instant());
        return created;
    }

    private Optional<DataKey> existingKey(Tx tx, String namespace) throws SQLException {
        return tx.secrets().wrappedKey(namespace).map(w -> DataKey.unwrap(keys, namespace, w));
    }

    private static byte[] bytes(SecretValue body) {
        return body.value().getBytes(StandardCharsets.UTF_8);
    }
}
