package dev.bolero.api.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One mutating API call, as the audit log keeps it. Entries form a hash chain per namespace (and one for the
 * cluster's own objects): entry {@code seq} carries {@code hash = SHA-256(previous hash, its fields)}, the first
 * entry's previous hash being {@link #GENESIS}. Removing, reordering or altering an entry breaks every later hash, so
 * {@link #verify} finds it from the entries alone; the server and {@code bolero audit verify} share this rule.
 *
 * @param seq the entry's place in its chain, from 1, without gaps
 * @param time when the call was answered (millisecond precision)
 * @param tokenId the id of the token that made the call (never the token)
 * @param namespace the namespace the call acted in, or null for the cluster's own objects (namespaces, nodes)
 * @param action the operation's id, for example {@code createMachine}
 * @param object the path the call acted on, for example {@code /v1/namespaces/acme/machines/m-1}
 * @param status the HTTP status of the answer: the call's outcome
 * @param source the caller's address
 * @param hash the chain hash of this entry, lowercase hex
 */
public record AuditEntry(long seq, Instant time, String tokenId, String namespace, String action, String object,
        int status, String source, String hash) {
    /** The previous hash of a chain's first entry. */
    public static final String GENESIS = "0".repeat(64);

    public AuditEntry {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(object, "object");
    }

    /** This entry with its {@link #hash} computed after {@code previousHash}. */
    public AuditEntry chainedAfter(String previousHash) {
        return new AuditEntry(seq, time, tokenId, namespace, action, object, status, source, hashAfter(previousHash));
    }

    /**
     * The hash this entry must carry after {@code previousHash}: SHA-256 over the previous hash and each field, every
     * field written as its length and its UTF-8 bytes (so no choice of field values can make two entries collide).
     */
    public String hashAfter(String previousHash) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        for (String field : List.of("bolero-audit-v1", previousHash, Long.toString(seq),
                Long.toString(time.toEpochMilli()), nullable(tokenId), nullable(namespace), action, object,
                Integer.toString(status), nullable(source))) {
            byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
            sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
            sha.update(bytes);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String nullable(String value) {
        return value == null ? "\0" : value;
    }

    /**
     * Checks a whole chain, first entry first.
     *
     * @return the first broken link: an entry whose seq is not the next one, or whose hash does not follow from the
     *     entries before it; empty when the chain is whole
     */
    public static Optional<Break> verify(List<AuditEntry> chain) {
        String previous = GENESIS;
        long expected = 1;
        for (AuditEntry entry : chain) {
            if (entry.seq() != expected) {
                return Optional.of(new Break(entry.seq(), "expected entry " + expected + ", found " + entry.seq()
                        + " (entries are missing or out of order)"));
            }
            String want = entry.hashAfter(previous);
            if (!want.equals(entry.hash())) {
                return Optional.of(new Break(entry.seq(), "entry " + entry.seq() + " (" + entry.action() + " "
                        + entry.object() + ") does not match its hash: it, or an entry before it, was altered"));
            }
            previous = entry.hash();
            expected++;
        }
        return Optional.empty();
    }

    /** Where and why a chain does not verify. */
    public record Break(long seq, String reason) {}
}
