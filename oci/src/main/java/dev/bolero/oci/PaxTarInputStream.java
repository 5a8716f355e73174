package dev.bolero.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A tar reader that also gives the PAX header values of the current entry as the bytes the archive holds.
 * commons-compress decodes every PAX value as UTF-8, which mangles binary values such as file capabilities and ACLs
 * in {@code SCHILY.xattr.*} headers. The library reads the content of {@code x} and {@code g} header entries through
 * this stream's {@code read}; this class keeps a copy of those bytes and parses the records ({@code LENGTH KEY=VALUE\n})
 * itself, as POSIX says: global headers apply to every later entry, an entry's own headers override them, and an
 * empty value removes a key (commons-compress itself keeps a global key an entry's header empties).
 *
 * <p>{@link #getNextEntry()} throws an {@link IOException} naming the entry if a header key the library decoded was not
 * seen here, so a change in how the library reads headers fails loudly instead of dropping attributes.
 */
final class PaxTarInputStream extends TarArchiveInputStream {
    private final ByteArrayOutputStream entryBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream globalBytes = new ByteArrayOutputStream();
    private Map<String, byte[]> globalHeaders = Map.of();
    private Map<String, byte[]> entryHeaders = Map.of();
    /** getNextEntry is re-entered by the library after a header entry: only the outermost call parses. */
    private int depth;

    PaxTarInputStream(InputStream in) {
        super(in, StandardCharsets.UTF_8.name());
    }

    @Override
    public TarArchiveEntry getNextEntry() throws IOException {
        TarArchiveEntry entry;
        depth++;
        try {
            entry = super.getNextEntry();
        } finally {
            depth--;
        }
        if (depth > 0) {
            return entry;
        }
        try {
            if (globalBytes.size() > 0) {
                globalHeaders = parse(globalBytes.toByteArray(), globalHeaders);
            }
            entryHeaders = entryBytes.size() > 0 ? parse(entryBytes.toByteArray(), globalHeaders) : globalHeaders;
        } finally {
            globalBytes.reset();
            entryBytes.reset();
        }
        if (entry != null) {
            // the library keeps a global key an entry's header removes: those are known too
            for (String key : entry.getExtraPaxHeaders().keySet()) {
                if (!entryHeaders.containsKey(key) && !globalHeaders.containsKey(key)) {
                    throw new IOException("entry " + entry.getName() + ": the tar reader decoded the PAX header " + key
                            + ", which was not read raw");
                }
            }
        }
        return entry;
    }

    /** The PAX headers of the entry {@link #getNextEntry()} last returned, global ones included; values as stored. */
    Map<String, byte[]> paxHeaders() {
        return entryHeaders;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int read = super.read(buffer, offset, length);
        TarArchiveEntry current = getCurrentEntry();
        if (read > 0 && current != null) {
            if (current.isPaxHeader()) {
                entryBytes.write(buffer, offset, read);
            } else if (current.isGlobalPaxHeader()) {
                globalBytes.write(buffer, offset, read);
            }
        }
        return read;
    }

    /**
     * Applies the records in {@code bytes} (which may end in NUL padding) on top of {@code base}.
     *
     * @throws IOException naming the offset of a malformed record
     */
    static Map<String, byte[]> parse(byte[] bytes, Map<String, byte[]> base) throws IOException {
        Map<String, byte[]> headers = new HashMap<>(base);
        int at = 0;
        while (at < bytes.length && bytes[at] != 0) {
            int space = at;
            long length = 0;
            while (space < bytes.length && bytes[space] >= '0' && bytes[space] <= '9' && length <= bytes.length) {
                length = length * 10 + (bytes[space] - '0');
                space++;
            }
            long end = at + length;
            if (space == at || space >= bytes.length || bytes[space] != ' ' || end > bytes.length || end <= space + 1
                    || bytes[(int) end - 1] != '\n') {
                throw new IOException("malformed PAX header record at offset " + at);
            }
            int equals = space + 1;
            while (equals < end - 1 && bytes[equals] != '=') {
                equals++;
            }
            if (equals == space + 1 || equals >= end - 1) {
                throw new IOException("malformed PAX header record at offset " + at + ": no KEY=VALUE");
            }
            String key = new String(bytes, space + 1, equals - space - 1, StandardCharsets.UTF_8);
            byte[] value = Arrays.copyOfRange(bytes, equals + 1, (int) end - 1);
            if (value.length == 0) {
                headers.remove(key);
            } else {
                headers.put(key, value);
            }
            at = (int) end;
        }
        return Collections.unmodifiableMap(headers);
    }
}
