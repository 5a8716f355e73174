package dev.bolero.server.secrets;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * A namespace's data key: it seals and opens that namespace's secret values with AES-256-GCM, and is stored only
 * wrapped by a master key ({@link MasterKeys}). Each sealed value is {@code nonce ‖ ciphertext ‖ tag}, bound by its
 * associated data to its namespace, name and version: a sealed value copied to another secret, version or namespace
 * does not open. Immutable and thread-safe.
 */
public final class DataKey {
    private final String namespace;
    private final SecretKey key;
    private final SecretKey digestKey;
    private final byte[] wrapped;

    private DataKey(String namespace, byte[] raw, byte[] wrapped) {
        this.namespace = namespace;
        this.key = new SecretKeySpec(raw, "AES");
        this.digestKey = new SecretKeySpec(hmac(new SecretKeySpec(raw, "HmacSHA256"),
                "bolero secret digest".getBytes(StandardCharsets.UTF_8)), "HmacSHA256");
        this.wrapped = wrapped;
        Arrays.fill(raw, (byte) 0);
    }

    /** A new random data key for {@code namespace}, wrapped under {@code master}'s current key. */
    public static DataKey create(MasterKeys master, String namespace) {
        byte[] raw = MasterKeys.random(MasterKeys.KEY_BYTES);
        return new DataKey(namespace, raw, master.wrap(namespace, raw));
    }

    /**
     * The data key {@code wrapped} holds for {@code namespace}.
     *
     * @throws SecretsException when it does not unwrap (see {@link MasterKeys#unwrap})
     */
    public static DataKey unwrap(MasterKeys master, String namespace, byte[] wrapped) {
        return new DataKey(namespace, master.unwrap(namespace, wrapped), wrapped.clone());
    }

    /** The key as stored: wrapped by a master key. */
    public byte[] wrapped() {
        return wrapped.clone();
    }

    /**
     * The key wrapped under {@code master}'s current key, when it is wrapped under an older one (after a master key
     * rotation); null when it is already current. The key itself stays the same: sealed values need no change.
     */
    public byte[] rewrapped(MasterKeys master) {
        if (MasterKeys.wrappedBy(wrapped).orElse("").equals(master.currentId())) return null;
        byte[] raw = master.unwrap(namespace, wrapped);
        try {
            return master.wrap(namespace, raw);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /** Seals version {@code version} of secret {@code name}'s {@code value}. */
    public byte[] seal(String name, long version, byte[] value) {
        byte[] nonce = MasterKeys.random(MasterKeys.NONCE_BYTES);
        byte[] sealed = MasterKeys.crypt(Cipher.ENCRYPT_MODE, key, nonce, aad(name, version), value);
        byte[] out = new byte[nonce.length + sealed.length];
        System.arraycopy(nonce, 0, out, 0, nonce.length);
        System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
        return out;
    }

    /**
     * Opens what {@link #seal} sealed for the same name and version.
     *
     * @throws SecretsException when it was altered or sealed for another secret, version or namespace
     */
    public byte[] open(String name, long version, byte[] sealed) {
        if (sealed.length < MasterKeys.NONCE_BYTES + MasterKeys.TAG_BITS / 8) {
            throw new SecretsException("open secret " + namespace + "/" + name + ": too short");
        }
        try {
            return MasterKeys.crypt(Cipher.DECRYPT_MODE, key, Arrays.copyOf(sealed, MasterKeys.NONCE_BYTES),
                    aad(name, version), Arrays.copyOfRange(sealed, MasterKeys.NONCE_BYTES, sealed.length));
        } catch (SecretsException e) {
            throw new SecretsException("open secret " + namespace + "/" + name + " version " + version + ": "
                    + e.getMessage());
        }
    }

    /**
     * What the API shows instead of a value: {@code hmac-sha256:HEX}, keyed by this namespace's data key, so equal
     * values show equal digests within the namespace while a digest reveals nothing that would let a guess be checked
     * without the key (a plain hash of a short password would).
     */
    public String digest(byte[] value) {
        return "hmac-sha256:" + HexFormat.of().formatHex(hmac(digestKey, value));
    }

    private byte[] aad(String name, long version) {
        return ("bolero secret\0" + namespace + "\0" + name + "\0" + version).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] hmac(SecretKey key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available: " + e.getMessage(), e);
        }
    }
}
