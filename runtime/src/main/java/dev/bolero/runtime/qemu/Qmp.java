package dev.bolero.runtime.qemu;

import dev.bolero.runtime.VmmException;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A blocking client of one QEMU's monitor (QMP): one command at a time, asynchronous events skipped. Not thread-safe.
 */
final class Qmp implements Closeable {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final Path socket;
    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private Qmp(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        in.flip();
    }

    /**
     * Connects, reads the greeting and enters command mode.
     *
     * @throws VmmException naming the socket when QMP cannot be reached or refuses
     */
    static Qmp connect(Path socket) throws VmmException {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new VmmException("connect to QMP " + socket + ": " + e.getMessage(), e);
        }
        Qmp qmp = new Qmp(socket, channel);
        try {
            qmp.readLine(); // the greeting
            qmp.execute("qmp_capabilities", Map.of());
            return qmp;
        } catch (VmmException | RuntimeException e) {
            qmp.close();
            throw e;
        }
    }

    /**
     * Runs {@code command} with {@code arguments} and returns its {@code return} value.
     *
     * @throws VmmException with QEMU's error description, or when the monitor goes away
     */
    JsonNode execute(String command, Map<String, Object> arguments) throws VmmException {
        String request = arguments.isEmpty()
                ? JSON.writeValueAsString(Map.of("execute", command))
                : JSON.writeValueAsString(Map.of("execute", command, "arguments", arguments));
        try {
            ByteBuffer out = ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) channel.write(out);
        } catch (IOException e) {
            throw new VmmException("QMP " + command + " on " + socket + ": " + e.getMessage(), e);
        }
        while (true) {
            JsonNode reply = JSON.readTree(readLine());
            if (reply.has("event")) continue;
            if (reply.has("error")) {
                throw new VmmException("QMP " + command + ": " + reply.path("error").path("desc").asString());
            }
            return reply.path("return");
        }
    }

    private String readLine() throws VmmException {
        try {
            while (true) {
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (b == '\n') {
                        String s = line.toString(StandardCharsets.UTF_8);
                        line.reset();
                        return s;
                    }
                    line.write(b);
                }
                in.clear();
                int n = channel.read(in);
                in.flip();
                if (n < 0) throw new VmmException("QMP " + socket + ": QEMU closed the monitor");
            }
        } catch (IOException e) {
            throw new VmmException("read QMP " + socket + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
