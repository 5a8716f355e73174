package dev.bolero.api.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hostile HTTP/1.1 clients that never stall long enough to trip an idle timeout: each connection sends the start of a
 * request and then one more byte every {@code interval}, inside its headers (a header value that never ends) or inside
 * a body it announced (a {@code Content-Length} far above what it will ever send). A virtual thread does the dripping
 * for all of them. {@link #open()} tells how many the server still holds; {@link #close()} closes what is left.
 */
public final class DrippingClients implements AutoCloseable {
    /** Where a client drips: into a request's headers, its body, or (on a TLS listener) its TLS handshake. */
    public enum Part { HEADERS, BODY, HANDSHAKE }

    /** A TLS handshake record's header announcing a 512-byte ClientHello, which never comes whole. */
    private static final byte[] HANDSHAKE_START = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};

    private record Dripper(Socket socket, Part part) {}

    private final List<Dripper> drippers = new CopyOnWriteArrayList<>();
    private final Thread dripping;
    private final long began = System.nanoTime();

    private DrippingClients(Duration interval) {
        this.dripping = Thread.ofVirtual().name("dripping-clients").unstarted(() -> drip(interval));
    }

    /**
     * Opens {@code headers} connections dripping inside the headers of {@code GET headerPath}, and {@code bodies}
     * dripping the body of a request whose head is {@code bodyHead} (request line and headers, without the
     * {@code Content-Length} and the blank line), from {@code source} to {@code target}, one byte every
     * {@code interval}.
     */
    public static DrippingClients start(InetAddress source, InetSocketAddress target, int headers, String headerPath,
                                        int bodies, String bodyHead, Duration interval) throws IOException {
        var clients = new DrippingClients(interval);
        try {
            for (int i = 0; i < headers; i++) {
                clients.open(source, target, Part.HEADERS, ascii("GET " + headerPath + " HTTP/1.1\r\nHost: drip\r\n"
                        + "X-Drip: a"));
            }
            for (int i = 0; i < bodies; i++) {
                clients.open(source, target, Part.BODY, ascii(bodyHead + "Content-Length: 100000\r\n\r\n{\"name\":\"a"));
            }
        } catch (IOException | RuntimeException e) {
            clients.close();
            throw e;
        }
        clients.dripping.start();
        return clients;
    }

    /**
     * Opens {@code count} connections from {@code source} to the TLS listener {@code target}, each dripping a
     * ClientHello one byte every {@code interval}.
     */
    public static DrippingClients handshakes(InetAddress source, InetSocketAddress target, int count,
                                             Duration interval) throws IOException {
        var clients = new DrippingClients(interval);
        try {
            for (int i = 0; i < count; i++) clients.open(source, target, Part.HANDSHAKE, HANDSHAKE_START);
        } catch (IOException | RuntimeException e) {
            clients.close();
            throw e;
        }
        clients.dripping.start();
        return clients;
    }

    /** How many of the connections dripping into {@code part} the server has not closed yet. */
    public int open(Part part) {
        int open = 0;
        for (Dripper d : drippers) {
            if (d.part == part && !closedByServer(d.socket)) open++;
        }
        return open;
    }

    /**
     * Waits until the server has closed every connection dripping into {@code part} and gives the seconds since they
     * were opened.
     *
     * @throws org.awaitility.core.ConditionTimeoutException when some are still open after two minutes
     */
    public double awaitClosed(Part part) {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .alias(part + " drippers the server still holds").until(() -> open(part) == 0);
        return (System.nanoTime() - began) / 1e9;
    }

    /** How many connections the server has not closed yet. */
    public int open() {
        int open = 0;
        for (Part part : Part.values()) open += open(part);
        return open;
    }

    @Override
    public void close() {
        dripping.interrupt();
        for (Dripper d : drippers) {
            try {
                d.socket.close();
            } catch (IOException ignored) {
                // closing what the server may have closed already
            }
        }
    }

    /** A connection to {@code target} from the address {@code source} (e.g. 127.0.0.2, another loopback client). */
    public static Socket connect(InetAddress source, InetSocketAddress target) throws IOException {
        var socket = new Socket();
        try {
            socket.bind(new InetSocketAddress(source, 0));
            socket.connect(target, 5000);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private void open(InetAddress source, InetSocketAddress target, Part part, byte[] start) throws IOException {
        var socket = connect(source, target);
        drippers.add(new Dripper(socket, part));
        socket.getOutputStream().write(start);
        socket.getOutputStream().flush();
    }

    private void drip(Duration interval) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            for (Dripper d : drippers) {
                try {
                    d.socket.getOutputStream().write('a');
                    d.socket.getOutputStream().flush();
                } catch (IOException closed) {
                    // the server closed it: nothing more to drip there
                }
            }
        }
    }

    /** Whether the server has closed (or answered and closed) the connection: a read sees its end. */
    public static boolean closedByServer(Socket s) {
        try {
            s.setSoTimeout(1);
            InputStream in = s.getInputStream();
            while (true) {
                if (in.read() < 0) return true;
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server, or closed here
        }
    }

    /** This JVM's platform threads and heap in use (after a collection), for a test to print. */
    public record Footprint(int threads, long heapMiB) {
        public static Footprint now() {
            System.gc();
            return new Footprint(ManagementFactory.getThreadMXBean().getThreadCount(),
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20);
        }

        @Override
        public String toString() {
            return threads + " threads, " + heapMiB + " MiB heap";
        }
    }
}
