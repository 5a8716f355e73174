package dev.bolero.oci;

import dev.bolero.core.Digest;
import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Reading one image layer, whatever is done with its entries: decompression (gzip, zstd or none, told by magic bytes),
 * the diff_id computed on the way, reading and decompression on a thread of their own ({@link ReadAhead}), PAX headers
 * read raw. Also the rules on entry names and extended attributes that every consumer of layers shares.
 */
final class LayerStream {
    static final String WHITEOUT = ".wh.";
    static final String OPAQUE = ".wh..wh..opq";
    private static final String SCHILY_XATTR = "SCHILY.xattr.";
    private static final String LIBARCHIVE_XATTR = "LIBARCHIVE.xattr.";

    private LayerStream() {}

    /** What is done with each entry of a layer. */
    @FunctionalInterface
    interface EntryHandler {
        /** Handles one entry; {@code content} is positioned at its data and gives its PAX headers. */
        void handle(TarArchiveEntry entry, PaxTarInputStream content) throws PullException, IOException;
    }

    /**
     * Gives every entry of a layer to {@code handler}, in order, and reads the layer to its end.
     *
     * @return the digest of the uncompressed tar (its diff_id)
     * @throws PullException naming the entry if the handler fails on it (an IOException of the handler included)
     */
    static Digest read(InputStream layer, EntryHandler handler) throws PullException, IOException {
        // reading and decompressing on one thread; hashing the tar and the handler's work on this one
        try (ReadAhead ahead = new ReadAhead(decompress(layer))) {
            DigestInputStream tar = new DigestInputStream(ahead, Sha256.newDigest()) {
                @Override
                public long skip(long n) throws IOException { // through read, so that skipped bytes are hashed too
                    byte[] buffer = new byte[(int) Math.min(Math.max(n, 1), 64 * 1024)];
                    long skipped = 0;
                    for (int r; skipped < n && (r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped))) > 0; ) {
                        skipped += r;
                    }
                    return skipped;
                }
            };
            PaxTarInputStream entries = new PaxTarInputStream(tar);
            for (TarArchiveEntry entry; (entry = entries.getNextEntry()) != null; ) {
                try {
                    handler.handle(entry, entries);
                } catch (IOException e) {
                    throw new PullException("entry " + entry.getName() + ": " + PullIOException.describe(e), e);
                }
            }
            tar.transferTo(OutputStream.nullOutputStream());
            return Sha256.of(tar.getMessageDigest());
        }
    }

    /** @throws PullException if a layer's uncompressed content has another digest than its image config says */
    static void checkDiffId(Digest actual, Digest expected) throws PullException {
        if (!actual.equals(expected)) {
            throw new PullException("uncompressed content has digest " + actual + ", the image config says " + expected);
        }
    }

    private static InputStream decompress(InputStream in) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, 64 * 1024);
        buffered.mark(4);
        byte[] magic = buffered.readNBytes(4);
        buffered.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(buffered, 64 * 1024);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return new BufferedInputStream(new ZstdInputStream(buffered), 64 * 1024);
        }
        return buffered;
    }

    /**
     * The components of the path a hard link entry points at, which must lie inside the root and not be the root.
     *
     * @param name the link entry's name, for the message
     * @throws PullException if the target is outside the root, or is the root directory itself
     */
    static List<String> hardLinkComponents(String name, String linkName) throws PullException {
        List<String> components;
        try {
            components = components(linkName, name);
        } catch (PullException e) {
            throw new PullException("entry " + name + " is a hard link to " + linkName + ", outside the root", e);
        }
        if (components.isEmpty()) {
            throw new PullException("entry " + name + " is a hard link to the root directory");
        }
        return components;
    }

    /**
     * The components of an entry or link name, with {@code .} and empty ones dropped.
     *
     * @param entry the entry's name, for the message
     * @throws PullException if the name is absolute or has a {@code ..} or NUL component
     */
    static List<String> components(String name, String entry) throws PullException {
        if (name.startsWith("/")) {
            throw new PullException("entry " + entry + " has an absolute path, which escapes the root");
        }
        List<String> components = new ArrayList<>();
        for (String component : name.split("/")) {
            if (component.equals("..")) {
                throw new PullException("entry " + entry + " escapes the root");
            }
            if (component.indexOf('\0') >= 0) {
                throw new PullException("entry " + entry + " has a NUL in its name");
            }
            if (!component.isEmpty() && !component.equals(".")) {
                components.add(component);
            }
        }
        return components;
    }

    /**
     * The extended attributes an entry's PAX headers carry, in header order: {@code SCHILY.xattr.NAME} (GNU tar and
     * Docker, the value as stored) and {@code LIBARCHIVE.xattr.NAME} (URL-encoded name, base64 value), byte-exact.
     *
     * @throws PullException if a name is empty or has a NUL, or a libarchive value is not base64
     */
    static Map<String, byte[]> xattrs(TarArchiveEntry entry, Map<String, byte[]> paxHeaders) throws PullException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (var header : paxHeaders.entrySet()) {
            String key = header.getKey();
            String name;
            byte[] value;
            if (key.startsWith(SCHILY_XATTR)) {
                name = key.substring(SCHILY_XATTR.length());
                value = header.getValue();
            } else if (key.startsWith(LIBARCHIVE_XATTR)) {
                name = java.net.URLDecoder.decode(key.substring(LIBARCHIVE_XATTR.length()), StandardCharsets.UTF_8);
                try {
                    value = java.util.Base64.getDecoder().decode(header.getValue());
                } catch (IllegalArgumentException e) {
                    throw new PullException("entry " + entry.getName() + ": xattr " + name + " is not valid base64", e);
                }
            } else {
                continue;
            }
            if (name.isEmpty() || name.indexOf('\0') >= 0) {
                throw new PullException("entry " + entry.getName() + " has an xattr with an invalid name");
            }
            out.put(name, value);
        }
        return out;
    }
}
