package dev.bolero.agent.logs;

import dev.bolero.api.PrivateFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;

/**
 * Appends a workload's output to its log file as lines {@code <epoch-ms> <o|e> <text>}. Output arrives in chunks
 * that are not line-aligned; each stream's partial line is held until its newline, {@link #flush()}, or
 * {@value #MAX_LINE} bytes. Past its size cap the file is renamed to {@code <file>.1} (replacing an older one) and a
 * new file started. Not thread-safe: one supervisor writes it.
 */
public final class WorkloadLog implements AutoCloseable {
    static final int MAX_LINE = 16 * 1024;

    private final Path file;
    private final long maxBytes;
    private OutputStream out;
    private long size;
    private final Clock clock;
    private final Map<LogStream, ByteArrayOutputStream> partial = new EnumMap<>(LogStream.class);
    private final Appends appends;
    private final Appends.Signal appended;

    WorkloadLog(Path file, Clock clock, long maxBytes, Appends appends) {
        this.clock = clock;
        this.file = file;
        this.maxBytes = maxBytes;
        this.appends = appends;
        open();
        this.appended = appends.open(file);
        for (LogStream s : LogStream.values()) partial.put(s, new ByteArrayOutputStream());
    }

    /** Adds a chunk of {@code stream}'s output; complete lines are written at once. */
    public void append(LogStream stream, byte[] data) {
        ByteArrayOutputStream buf = partial.get(stream);
        for (byte b : data) {
            if (b == '\n') {
                writeLine(stream, buf);
            } else {
                buf.write(b);
                if (buf.size() >= MAX_LINE) writeLine(stream, buf);
            }
        }
        flushFile();
    }

    /** Whether a stream's partial line is held in memory only (not yet in the file). */
    public boolean holdsPartialLine() {
        return partial.values().stream().anyMatch(b -> b.size() > 0);
    }

    /** Writes out every stream's partial line (at the workload's end). */
    public void flush() {
        for (var e : partial.entrySet()) {
            if (e.getValue().size() > 0) writeLine(e.getKey(), e.getValue());
        }
        flushFile();
    }

    @Override
    public void close() {
        flush();
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("close log: " + e.getMessage(), e);
        } finally {
            appends.close(file);
        }
    }

    private void open() {
        try {
            PrivateFiles.file(file);
            out = Files.newOutputStream(file, StandardOpenOption.APPEND);
            size = Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("open log " + file + ": " + e.getMessage(), e);
        }
    }

    private void rotate() {
        Path rotated = file.resolveSibling(file.getFileName() + LogStore.ROTATED_SUFFIX);
        try {
            out.close();
            Files.move(file, rotated, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("rotate log " + file + ": " + e.getMessage(), e);
        }
        open();
    }

    private void writeLine(LogStream stream, ByteArrayOutputStream buf) {
        try {
            byte[] prefix = (clock.millis() + " " + stream.tag() + " ").getBytes(StandardCharsets.US_ASCII);
            long length = prefix.length + buf.size() + 1L;
            if (size > 0 && size + length > maxBytes) rotate();
            out.write(prefix);
            buf.writeTo(out);
            out.write('\n');
            size += length;
        } catch (IOException e) {
            throw new UncheckedIOException("write log: " + e.getMessage(), e);
        }
        buf.reset();
    }

    private void flushFile() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("write log: " + e.getMessage(), e);
        }
        appended.fire();
    }
}
