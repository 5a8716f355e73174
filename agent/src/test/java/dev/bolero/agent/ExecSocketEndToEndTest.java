package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.api.ExecStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The interactive exec WebSocket against one real QEMU microVM: a shell on a pseudo-terminal with resize and exit
 * code, piped stdin with stderr kept apart, clear errors for a bad request, and no process left in the guest when the
 * client disconnects; flow control: a client that stops reading holds the command back, not the agent's memory or the
 * machine's other output; the message size limit.
 */
class ExecSocketEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("execws/app:1", ImageSpec.cmd("sh", "-c", "exec sleep 600"));

    private static String machine;

    @BeforeAll
    static void startMachine(AgentHarness node) {
        machine = node.create("{\"start\": true, \"config\": {\"image\": \"" + env.image() + "\"}}");
        node.waitFor(machine, "running", 240);
    }

    @Test
    void a_shell_on_a_terminal_sees_its_tty_its_new_size_and_reports_its_exit_code() {
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"sh\"], \"tty\": true, \"rows\": 24, \"cols\": 80}");
            c.binary("tty; echo $((6*7))\n");
            await().atMost(Duration.ofSeconds(60)).until(() -> c.stdout().contains("42\r\n"));
            assertThat(c.stdout()).containsPattern("/dev/pts/[0-9]+\r\n");
            assertThat(c.stderr()).as("a terminal has one output stream").isEmpty();

            c.text("{\"resize\": {\"rows\": 50, \"cols\": 132}}");
            c.binary("stty size\n");
            await().atMost(Duration.ofSeconds(60)).until(() -> c.stdout().contains("50 132\r\n"));

            c.binary("exit 3\n");
            assertThat(c.closeCode()).isEqualTo(1000);
            assertThat(c.texts).containsExactly("{\"exit_code\":3}");
        }
    }

    @Test
    void the_terminal_belongs_to_the_exec_user_and_a_timeout_kills_the_command() {
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"sh\", \"-c\", \"id -u; stat -c %U $(tty)\"], \"tty\": true, \"user\": \"app\"}");
            assertThat(c.closeCode()).isEqualTo(1000);
            assertThat(c.stdout()).isEqualTo("1000\r\napp\r\n");
            assertThat(c.texts).containsExactly("{\"exit_code\":0}");
        }
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"sleep\", \"600\"], \"tty\": true, \"timeout_s\": 1}");
            assertThat(c.closeCode()).isEqualTo(1000);
            assertThat(c.texts).containsExactly("{\"exit_code\":137}");
        }
    }

    @Test
    void without_a_terminal_stdin_is_piped_and_stderr_is_kept_apart() {
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"sh\", \"-c\", \"cat; echo to-err >&2; exit 5\"], \"stdin\": \"first \"}");
            c.binary("second\n");
            c.text("{\"close_stdin\": true}");
            assertThat(c.closeCode()).isEqualTo(1000);
            assertThat(c.stdout()).isEqualTo("first second\n");
            assertThat(c.stderr()).isEqualTo("to-err\n");
            assertThat(c.texts).containsExactly("{\"exit_code\":5}");
        }
    }

    @Test
    void a_bad_first_message_is_refused_with_a_clear_error() {
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"sh\"], \"tty\": true, \"colour\": true}");
            assertThat(c.closeCode()).isEqualTo(1008);
            assertThat(c.texts).containsExactly("{\"error\":{\"code\":\"invalid_argument\","
                    + "\"message\":\"exec in machine " + machine + ": unknown field 'colour'\"}}");
        }
        try (Client c = Client.open(machine)) {
            c.binary("ls\n");
            assertThat(c.closeCode()).isEqualTo(1008);
            assertThat(c.texts.getFirst()).contains("the first message must be the exec request, as JSON text");
        }
        try (Client c = Client.open("no-such-machine")) {
            c.text("{\"cmd\": [\"sh\"]}");
            assertThat(c.closeCode()).isEqualTo(1008);
            assertThat(c.texts.getFirst()).contains("\"code\":\"not_found\"");
        }
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"/no/such\"], \"tty\": true}");
            assertThat(c.closeCode()).isEqualTo(1008);
            assertThat(c.texts).containsExactly("{\"error\":{\"code\":\"failed_precondition\",\"message\":"
                    + "\"exec in machine " + machine + ": exec /no/such: No such file or directory\"}}");
        }
    }

    @Test
    void a_client_that_disconnects_leaves_no_process_behind() {
        Client c = Client.open(machine);
        c.text("{\"cmd\": [\"sh\"], \"tty\": true}");
        c.binary("sleep 7777 & sleep 8888\n");
        await().atMost(Duration.ofSeconds(60)).until(() -> ps().contains("sleep 7777") && ps().contains("sleep 8888"));
        c.close();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> !ps().contains("sleep 7777") && !ps().contains("sleep 8888"));
        assertThat(ps()).as("the workload itself runs on").contains("sleep 600");
    }

    @Test
    void a_client_that_stops_reading_holds_the_command_back_and_then_gets_every_byte_in_order() throws Exception {
        long lines = 9_000_000; // "1\n" … "9000000\n": 70,888,897 bytes, over 64 MiB
        var expected = new CRC32();
        long expectedBytes = 0;
        for (long i = 1; i <= lines; i++) {
            byte[] line = (i + "\n").getBytes(StandardCharsets.US_ASCII);
            expected.update(line);
            expectedBytes += line.length;
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long heapBefore = usedHeapAfterGc(memory);
        var drain = new Drain();
        URI uri = URI.create("ws://127.0.0.1:" + env.node().port() + "/api/v1/machines/" + machine + "/exec");
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, drain).join();
        try {
            long started = System.nanoTime();
            ws.sendText("{\"cmd\": [\"seq\", \"1\", \"" + lines + "\"]}", true).join();
            // The client reads nothing: the command fills the window, then its pipe, and blocks writing.
            long[] last = {-1};
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                long written = writtenBy("seq");
                boolean still = written == last[0];
                last[0] = written;
                return still && written > 0;
            });
            assertThat(last[0]).as("bytes seq wrote before it blocked").isLessThan(16L << 20);
            long heapGrowth = usedHeapAfterGc(memory) - heapBefore;
            assertThat(heapGrowth).as("heap growth while the client does not read").isLessThan(8L << 20);

            // The machine's own output still flows: the reader thread is not stuck behind the client.
            String marker = "flow-marker-" + System.nanoTime();
            env.node().exec(machine, "{\"cmd\": [\"sh\", \"-c\", \"for p in /proc/[0-9]*; do "
                    + "[ \\\"$(tr '\\\\0' ' ' < $p/cmdline)\\\" = 'sleep 600 ' ] && echo " + marker
                    + " > $p/fd/1; done; true\"]}");
            await().atMost(Duration.ofSeconds(60)).until(() -> env.node().logs(machine).contains(marker));
            assertThat(writtenBy("seq")).as("still blocked").isEqualTo(last[0]);

            drain.resume(ws);
            assertThat(drain.closed.orTimeout(600, TimeUnit.SECONDS).join()).isEqualTo(1000);
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("exec flow: seq wrote %d bytes before blocking; heap grew %d KiB while stalled; "
                    + "%d bytes in %.1f s with the stall%n", last[0], heapGrowth / 1024, drain.bytes, seconds);
            assertThat(drain.texts).containsExactly("{\"exit_code\":0}");
            assertThat(drain.bytes).isEqualTo(expectedBytes);
            assertThat(drain.crc.getValue()).as("checksum of stdout").isEqualTo(expected.getValue());
        } finally {
            ws.abort();
        }
    }

    @Test
    void a_first_message_over_64_kib_is_taken_and_one_over_the_limit_closes_with_1009() {
        String stdin = "x".repeat(300 * 1024);
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"sh\", \"-c\", \"wc -c | tr -d ' '\"], \"stdin\": \"" + stdin + "\"}");
            c.text("{\"close_stdin\": true}");
            assertThat(c.closeCode()).isEqualTo(1000);
            assertThat(c.stdout()).isEqualTo(stdin.length() + "\n");
        }
        try (Client c = Client.open(machine)) {
            c.text("{\"cmd\": [\"cat\"]}");
            c.binary("y".repeat(ExecStream.MAX_MESSAGE + 1));
            assertThat(c.closeCode()).isEqualTo(1009);
        }
    }

    /** Bytes written so far by the guest's process named {@code name} ({@code /proc/PID/io} wchar), 0 if none. */
    private static long writtenBy(String name) {
        String out = env.node().exec(machine, "{\"cmd\": [\"sh\", \"-c\", \"for p in /proc/[0-9]*; do "
                + "[ \\\"$(cat $p/comm)\\\" = " + name + " ] && sed -n 's/^wchar: //p' $p/io; done; true\"]}")
                .path("stdout").asString().strip();
        return out.isEmpty() ? 0 : Long.parseLong(out);
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) {
        System.gc();
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** What both clients keep alike: the text messages, whole, and the close code. */
    private abstract static class TextsAndClose implements WebSocket.Listener {
        final List<String> texts = new CopyOnWriteArrayList<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder partialText = new StringBuilder();

        @Override
        public synchronized CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partialText.append(data);
            if (last) {
                texts.add(partialText.toString());
                partialText.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    /** A client that reads nothing until {@link #resume}, then counts and checksums stdout without keeping it. */
    private static final class Drain extends TextsAndClose {
        final CRC32 crc = new CRC32();
        long bytes;
        private boolean first = true;

        @Override
        public void onOpen(WebSocket socket) {
            // no request: nothing is read until resume
        }

        void resume(WebSocket socket) {
            socket.request(1);
        }

        @Override
        public synchronized CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            if (first) assertThat(data.get()).as("stream byte").isEqualTo((byte) 1);
            bytes += data.remaining();
            crc.update(data);
            first = last;
            socket.request(1);
            return null;
        }
    }

    private static String ps() {
        return env.node().exec(machine, "{\"cmd\": [\"ps\", \"-o\", \"args\"]}").path("stdout").asString();
    }

    /** A raw client of the exec socket (java.net.http): collects output by stream, text messages, the close code. */
    private static final class Client extends TextsAndClose implements AutoCloseable {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private WebSocket ws;

        static Client open(String machine) {
            var c = new Client();
            URI uri = URI.create("ws://127.0.0.1:" + env.node().port() + "/api/v1/machines/" + machine + "/exec");
            c.ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, c).join();
            return c;
        }

        void text(String s) {
            ws.sendText(s, true).join();
        }

        void binary(String s) {
            ws.sendBinary(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)), true).join();
        }

        synchronized String stdout() {
            return out.toString(StandardCharsets.UTF_8);
        }

        synchronized String stderr() {
            return err.toString(StandardCharsets.UTF_8);
        }

        int closeCode() {
            return closed.orTimeout(120, TimeUnit.SECONDS).join();
        }

        @Override
        public synchronized CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            while (data.hasRemaining()) partial.write(data.get());
            if (last) {
                byte[] m = partial.toByteArray();
                partial.reset();
                assertThat(m[0]).as("stream byte").isIn((byte) 1, (byte) 2);
                (m[0] == 1 ? out : err).write(m, 1, m.length - 1);
            }
            socket.request(1);
            return null;
        }

        @Override
        public void close() {
            ws.abort();
        }
    }
}
