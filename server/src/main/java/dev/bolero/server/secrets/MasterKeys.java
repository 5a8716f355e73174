package dev.bolero.server.secrets;

import dev.bolero.api.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server's master keys: they wrap (encrypt) each namespace's data key, and never encrypt a secret themselves. One
 * is current (new data keys are wrapped under it); the others are kept only to unwrap data keys wrapped before a
 * rotation, until {@link DataKeys#rewrap} has moved every one to the current key. A key is 32 random bytes (AES-256),
 * known by its id: the first 8 bytes of its SHA-256, in hex. Thread-safe and immutable.
 *
 * <p>Wrapping is AES-256-GCM with a random 96-bit nonce and the namespace as associated data, so a wrapped key
 * copied to another namespace's row does not unwrap: {@code keyId ‖ nonce ‖ ciphertext ‖ tag}.
 */
public final class MasterKeys {
    static final int KEY_BYTES = 32;
    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    private static final int ID_BYTES = 8;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, SecretKey> keys; // by id; the first is current

    private MasterKeys(Map<String, SecretKey> keys) {
        this.keys = keys;
    }

    /**
     * The keys whose base64 forms are {@code current} then {@code previous}.
     *
     * @throws IllegalArgumentException naming which key is not 32 bytes of base64
     */
    public static MasterKeys of(String current, List<String> previous) {
        var keys = new LinkedHashMap<String, SecretKey>();
        int i = 0;
        for (String encoded : concat(current, previous)) {
            String which = i++ == 0 ? "the master key" : "previous master key " + (i - 1);
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(encoded.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(which + " is not base64", e);
            }
            if (raw.length != KEY_BYTES) {
                throw new IllegalArgumentException(which + " must be " + KEY_BYTES + " bytes, got " + raw.length);
            }
            keys.putIfAbsent(id(raw), new SecretKeySpec(raw, "AES"));
        }
        return new MasterKeys(keys);
    }

    private static List<String> concat(String current, List<String> previous) {
        var all = new java.util.ArrayList<String>();
        all.add(current);
        all.addAll(previous);
        return all;
    }

    /**
     * The master key in {@code file} (base64, one line), made {@code 0600} — created with a new random key when the
     * file does not exist yet — plus the {@code previous} ones.
     *
     * @throws UncheckedIOException when the file cannot be read or created
     */
    public static MasterKeys fromFile(Path file, List<String> previous) {
        try {
            if (!Files.exists(file)) {
                Path fresh = PrivateFiles.file(file.resolveSibling(file.getFileName() + ".new"));
                Files.writeString(fresh, Base64.getEncoder().encodeToString(random(KEY_BYTES)) + "\n");
                Files.move(fresh, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            PrivateFiles.file(file);
            return of(Files.readString(file), previous);
        } catch (IOException e) {
            throw new UncheckedIOException("read master key " + file + ": " + e.getMessage(), e);
        }
    }

    /** A new random key, in base64: for an operator generating one, and for tests. */
    public static String generate() {
        return Base64.getEncoder().encodeToString(random(KEY_BYTES));
    }

    /** The current key's id. */
    public String currentId() {
        return keys.keySet().iterator().next();
    }

    /** Wraps {@code dataKey} for {@code namespace} under the current key. */
    byte[] wrap(String namespace, byte[] dataKey) {
        String id = currentId();
        byte[] nonce = random(NONCE_BYTES);
        byte[] sealed = crypt(Cipher.ENCRYPT_MODE, keys.get(id), nonce, aad(namespace), dataKey);
        byte[] out = new byte[ID_BYTES + NONCE_BYTES + sealed.length];
        System.arraycopy(HexFormat.of().parseHex(id), 0, out, 0, ID_BYTES);
        System.arraycopy(nonce, 0, out, ID_BYTES, NONCE_BYTES);
        System.arraycopy(sealed, 0, out, ID_BYTES + NONCE_BYTES, sealed.length);
        return out;
    }

    /**
     * Unwraps a data key {@link #wrap} made for {@code namespace}.
     *
     * @throws SecretsException when the key that wrapped it is not known here, or it was altered or belongs to
     *     another namespace
     */
    byte[] unwrap(String namespace, byte[] wrapped) {
        if (wrapped.length < ID_BYTES + NONCE_BYTES + TAG_BITS / 8) {
            throw new SecretsException("unwrap the data key of " + namespace + ": too short");
        }
        String id = HexFormat.of().formatHex(wrapped, 0, ID_BYTES);
        SecretKey key = keys.get(id);
        if (key == null) {
            throw new SecretsException("unwrap the data key of " + namespace + ": it was wrapped by master key " + id
                    + ", which this server does not have (pass it as a previous master key)");
        }
        byte[] nonce = java.util.Arrays.copyOfRange(wrapped, ID_BYTES, ID_BYTES + NONCE_BYTES);
        byte[] sealed = java.util.Arrays.copyOfRange(wrapped, ID_BYTES + NONCE_BYTES, wrapped.length);
        return crypt(Cipher.DECRYPT_MODE, key, nonce, aad(namespace), sealed);
    }

    /** The id of the key that wrapped {@code wrapped}. */
    static Optional<String> wrappedBy(byte[] wrapped) {
        return wrapped.length < ID_BYTES ? Optional.empty()
                : Optional.of(HexFormat.of().formatHex(wrapped, 0, ID_BYTES));
    }

    private static byte[] aad(String namespace) {
        return ("bolero data key\0" + namespace).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * AES-256-GCM.
     *
     * @throws SecretsException when decryption fails its tag check (altered, or another key or associated data)
     */
    static byte[] crypt(int mode, SecretKey key, byte[] nonce, byte[] aad, byte[] input) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(aad);
            return cipher.doFinal(input);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new SecretsException("decrypt: the data was altered, or belongs elsewhere");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM is not available: " + e.getMessage(), e);
        }
    }

    static byte[] random(int bytes) {
        byte[] out = new byte[bytes];
        RANDOM.nextBytes(out);
        return out;
    }

    private static String id(byte[] raw) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw), 0, ID_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
