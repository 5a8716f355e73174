package dev.bolero.runtime.internal.vmm;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Host-initiated connections over Firecracker's "hybrid vsock", which Cloud Hypervisor implements too: connect to
 * the VMM's Unix socket, send {@code CONNECT <port>\n}, and read {@code OK <host port>\n}; the socket then carries
 * the guest's vsock stream.
 */
public final class HybridVsock {

    private static final int MAX_REPLY = 64;

    private HybridVsock() {}

    /**
     * Opens a stream to the guest's vsock {@code port}.
     *
     * @throws IOException when the socket cannot be reached or the VMM refuses (nobody listens on the port in the
     *     guest yet: the VMM closes the connection)
     */
    public static SocketChannel connect(Path socket, int port) throws IOException {
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        try {
            channel.write(ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII)));
            String reply = readLine(channel);
            if (!reply.startsWith("OK ")) {
                throw new IOException("vsock " + socket + " port " + port + ": VMM answered '" + reply + "'");
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Reads one line byte by byte, so that nothing after it (the guest's first bytes) is consumed. */
    private static String readLine(SocketChannel channel) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        StringBuilder line = new StringBuilder();
        while (line.length() < MAX_REPLY) {
            one.clear();
            if (channel.read(one) < 0) {
                throw new IOException("connection closed by the VMM after " + line.length()
                        + " bytes of its CONNECT reply (no listener on the guest port?)");
            }
            char c = (char) (one.get(0) & 0xff);
            if (c == '\n') return line.toString();
            line.append(c);
        }
        throw new IOException("CONNECT reply longer than " + MAX_REPLY + " bytes");
    }
}
