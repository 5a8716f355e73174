package dev.bolero.oci.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A failure injector in front of a real registry: a loopback TCP proxy that forwards everything both ways until a
 * connection asks for one blob; of that response it forwards the first {@code bytes} bytes (headers included) and then
 * nothing more, keeping the connection open, as a registry that stalls mid-blob does. {@link #close()} closes the
 * listening socket and every connection.
 */
public final class StallingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final String target;
    private final String blobPath;
    private final long bytes;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicLong stalledAfter = new AtomicLong(-1);

    private StallingProxy(ServerSocket server, String target, String blobHex, long bytes) {
        this.server = server;
        this.target = target;
        this.blobPath = "/blobs/sha256:" + blobHex;
        this.bytes = bytes;
    }

    /**
     * Starts a proxy on a free loopback port in front of {@code target} ({@code 127.0.0.1:PORT}).
     *
     * @param blobHex the sha256 hex of the blob whose response stalls
     * @param bytes how many bytes of that response are forwarded before the stall
     */
    public static StallingProxy start(String target, String blobHex, long bytes) throws IOException {
        StallingProxy proxy = new StallingProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), target, blobHex, bytes);
        Thread.ofVirtual().name("stalling-proxy").start(proxy::accept);
        return proxy;
    }

    /** {@code 127.0.0.1:PORT}: a loopback registry, reached over plain HTTP. */
    public String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** How many bytes of the blob's response were forwarded before the stall; empty until it stalled. */
    public java.util.OptionalLong stalledAfter() {
        long at = stalledAfter.get();
        return at < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(at);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                int colon = target.lastIndexOf(':');
                Socket upstream = new Socket(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
                sockets.add(client);
                sockets.add(upstream);
                Connection connection = new Connection();
                Thread.ofVirtual().start(() -> requests(client, upstream, connection));
                Thread.ofVirtual().start(() -> responses(upstream, client, connection));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** Whether this connection asked for the stalling blob, and how much of its response may still pass. */
    private static final class Connection {
        volatile boolean stalling;
        long left;
    }

    private void requests(Socket client, Socket upstream, Connection connection) {
        try (InputStream in = client.getInputStream(); OutputStream out = upstream.getOutputStream()) {
            byte[] buffer = new byte[16 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (!connection.stalling && new String(buffer, 0, n, StandardCharsets.ISO_8859_1).contains(blobPath)) {
                    connection.left = bytes;
                    connection.stalling = true; // before the request goes on: its response is counted from its first byte
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // a side closed
        }
    }

    private void responses(Socket upstream, Socket client, Connection connection) {
        try (InputStream in = upstream.getInputStream(); OutputStream out = client.getOutputStream()) {
            byte[] buffer = new byte[16 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (connection.stalling) {
                    int pass = (int) Math.min(n, connection.left);
                    out.write(buffer, 0, pass);
                    out.flush();
                    connection.left -= pass;
                    if (connection.left == 0) {
                        stalledAfter.set(bytes);
                        closed.await(); // the stall: nothing more, the connection stays open
                        return;
                    }
                } else {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // a side closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed.countDown();
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
