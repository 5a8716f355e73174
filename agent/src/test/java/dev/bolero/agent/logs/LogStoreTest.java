package dev.bolero.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreTest {
    @TempDir
    Path dir;

    private final Clock clock = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC);

    @Test
    void chunks_that_split_lines_are_stored_as_whole_lines_per_stream() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            log.append(LogStream.STDOUT, bytes("hel"));
            log.append(LogStream.STDERR, bytes("oops\n"));
            log.append(LogStream.STDOUT, bytes("lo\nworld\npart"));
        }
        assertThat(Files.readString(dir.resolve("m1/workload.log"))).isEqualTo("""
                1700000000000 e oops
                1700000000000 o hello
                1700000000000 o world
                1700000000000 o part
                """);
        assertThat(read(store, "m1", LogStore.Source.WORKLOAD)).isEqualTo("oops\nhello\nworld\npart\n");
    }

    @Test
    void a_line_longer_than_the_limit_is_split() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            log.append(LogStream.STDOUT, new byte[WorkloadLog.MAX_LINE + 10]);
        }
        assertThat(read(store, "m1", LogStore.Source.WORKLOAD).split("\n")).hasSize(2);
    }

    @Test
    void the_console_is_copied_raw_and_a_missing_file_is_empty() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        assertThat(read(store, "m1", LogStore.Source.CONSOLE)).isEmpty();
        Files.writeString(dir.resolve("m1/console.log"), "[    0.1] Linux 1 2\nno newline");
        assertThat(read(store, "m1", LogStore.Source.CONSOLE)).isEqualTo("[    0.1] Linux 1 2\nno newline\n");
    }

    @Test
    void following_copies_lines_written_later_and_ends_when_the_writer_is_done() throws Exception {
        Files.createDirectories(dir.resolve("m1"));
        LogStore store = new LogStore(dir, clock);
        AtomicBoolean live = new AtomicBoolean(true);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Thread follower = Thread.ofVirtual().start(() -> {
            try {
                store.copy("m1", LogStore.Source.WORKLOAD, sink, live::get);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (WorkloadLog log = store.openWorkloadLog("m1")) {
            log.append(LogStream.STDOUT, bytes("first\n"));
            Thread.sleep(300);
            log.append(LogStream.STDOUT, bytes("second\n"));
        }
        live.set(false);
        follower.join();
        assertThat(sink.toString(StandardCharsets.UTF_8)).isEqualTo("first\nsecond\n");
    }

    private static String read(LogStore store, String id, LogStore.Source source) throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        store.copy(id, source, sink, () -> false);
        return sink.toString(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
