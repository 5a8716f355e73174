package dev.bolero.network;

import dev.bolero.api.PrivateFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.interfaces.XECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.KeyAgreement;

/**
 * The node's WireGuard key pair (X25519). The private key stays in one file on the node, mode {@code 0600}, in
 * WireGuard's format (base64 of the 32 raw bytes, as {@code wg genkey} writes it), which {@code wg set ... private-key}
 * reads; only the public key ({@link #publicKey()}) is ever sent to the control plane.
 *
 * @param file the private key file
 * @param publicKey the public key in WireGuard's base64 form (44 characters)
 */
public record NodeKey(Path file, String publicKey) {
    private static final int KEY_BYTES = 32;
    private static final BigInteger BASE_POINT = BigInteger.valueOf(9);

    public NodeKey {
        Objects.requireNonNull(file, "file");
        decode(publicKey, "public key");
    }

    /**
     * Reads the key in {@code file}, or makes a new one there ({@code 0600}, created so before a byte is written) when
     * the file does not exist. An existing file's mode is set to {@code 0600}.
     *
     * @throws IOException if the file cannot be read or written, is a symbolic link, or does not hold a key
     */
    public static NodeKey loadOrCreate(Path file) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            PrivateFiles.directory(file.toAbsolutePath().getParent());
            byte[] scalar = generate();
            PrivateFiles.file(file);
            Files.writeString(file, encode(scalar) + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
            return new NodeKey(file, encode(publicKeyOf(scalar)));
        }
        PrivateFiles.file(file);
        var text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        byte[] scalar;
        try {
            scalar = decode(text, "private key");
        } catch (IllegalArgumentException e) {
            throw new IOException("read node key " + file + ": " + e.getMessage(), e);
        }
        return new NodeKey(file, encode(publicKeyOf(scalar)));
    }

    /** The public key for a WireGuard private key, both in WireGuard's base64 form (what {@code wg pubkey} prints). */
    static String publicKeyOf(String privateKey) {
        return encode(publicKeyOf(decode(privateKey, "private key")));
    }

    /** Decodes a WireGuard key; throws {@link IllegalArgumentException} naming {@code what} unless it is 32 bytes. */
    static byte[] decode(String base64, String what) {
        if (base64 == null) throw new IllegalArgumentException(what + " is missing");
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not base64", e);
        }
        if (raw.length != KEY_BYTES) throw new IllegalArgumentException(what + " is not " + KEY_BYTES + " bytes but " + raw.length);
        return raw;
    }

    private static String encode(byte[] raw) {
        return Base64.getEncoder().encodeToString(raw);
    }

    private static byte[] generate() {
        try {
            var pair = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            return ((XECPrivateKey) pair.getPrivate()).getScalar().orElseThrow();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("generate X25519 key: " + e.getMessage(), e);
        }
    }

    /** X25519(k, 9): the public key is the scalar times the base point, as RFC 7748 defines it (little-endian u). */
    private static byte[] publicKeyOf(byte[] scalar) {
        try {
            var factory = KeyFactory.getInstance("XDH");
            var privateKey = factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar));
            var basePoint = factory.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, BASE_POINT));
            var agreement = KeyAgreement.getInstance("XDH");
            agreement.init(privateKey);
            agreement.doPhase(basePoint, true);
            return agreement.generateSecret();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("derive X25519 public key: " + e.getMessage(), e);
        }
    }
}
