package dev.bolero.agent.logs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;

/**
 * Appends a workload's output to its log file as lines {@code <epoch-ms> <o|e> <text>}. Output arrives in chunks
 * that are not line-aligned; each stream's partial line is held until its newline, {@link #flush()}, or
 * {@value #MAX_LINE} bytes. Not thread-safe: one supervisor writes it.
 */
public final class WorkloadLog implements AutoCloseable {
    static final int MAX_LINE = 16 * 1024;

    private final OutputStream out;
    private final Clock clock;
    private final Map<LogStream, ByteArrayOutputStream> partial = new EnumMap<>(LogStream.class);

    WorkloadLog(Path file, Clock clock) {
        this.clock = clock;
        try {
            this.out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("open log " + file + ": " + e.getMessage(), e);
        }
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
        }
    }

    private void writeLine(LogStream stream, ByteArrayOutputStream buf) {
        try {
            out.write((clock.millis() + " " + stream.tag() + " ").getBytes(StandardCharsets.US_ASCII));
            buf.writeTo(out);
            out.write('\n');
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
    }
}
