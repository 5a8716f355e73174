package dev.bolero.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiConsumer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;

/**
 * Passes an HTTP/1.1 upgrade (WebSocket) through: sends the client's upgrade request to the machine over a new
 * connection, and when the machine switches protocols, switches the client's connection too and copies bytes both
 * ways until either side closes ({@link Splice}). The machine stays held (counted outstanding) while the tunnel is
 * open, so an open WebSocket keeps it from looking idle.
 */
final class WebSocketTunnel {
    private static final int MAX_HEAD = 16 * 1024;
    /** Request headers that describe the client's hop only; the upgrade's own are written explicitly. */
    private static final Set<String> HOP = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
            "transfer-encoding", "upgrade", "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
            "x-request-id", "content-length");
    /** Response headers of the machine's 101 that the client needs. */
    private static final Set<String> ANSWER = Set.of("sec-websocket-accept", "sec-websocket-protocol",
            "sec-websocket-extensions", "set-cookie");

    private final Duration connectTimeout;

    WebSocketTunnel(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    static boolean isUpgrade(Request request) {
        if (request.getConnectionMetaData().getHttpVersion() != HttpVersion.HTTP_1_1) {
            return false;
        }
        HttpFields headers = request.getHeaders();
        return headers.contains(HttpHeader.UPGRADE) && headers.contains(HttpHeader.CONNECTION, "upgrade");
    }

    /** Opens the tunnel on a virtual thread; answers the client 101, the machine's refusal status, or 502. */
    void open(Exchange exchange, BiConsumer<Exchange, HttpFields.Mutable> forwardHeaders) {
        Thread.ofVirtual().name("ws-" + exchange.requestId).start(() -> run(exchange, forwardHeaders));
    }

    private void run(Exchange exchange, BiConsumer<Exchange, HttpFields.Mutable> forwardHeaders) {
        Backend backend = exchange.lease().backend;
        var socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(backend.host(), backend.port()), (int) connectTimeout.toMillis());
            socket.getOutputStream().write(head(exchange, forwardHeaders));
            var answer = readHead(socket.getInputStream());
            if (answer.status != 101) {
                socket.close();
                exchange.lease().release(false);
                exchange.response.setStatus(answer.status);
                exchange.response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
                exchange.response.write(true, null, exchange.client);
                return;
            }
            var response = exchange.response;
            response.setStatus(101);
            response.getHeaders().put(HttpHeader.UPGRADE, answer.upgrade);
            response.getHeaders().put(HttpHeader.CONNECTION, "Upgrade");
            answer.fields.forEach(response.getHeaders()::add);
            var endPoint = exchange.request.getConnectionMetaData().getConnection().getEndPoint();
            var splice = new Splice(endPoint, exchange.request.getComponents().getExecutor(), socket, answer.rest, exchange.lease());
            exchange.request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, splice);
            exchange.client.succeeded();
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            exchange.machineFailed();
            Refusal.MACHINE_FAILED.send(exchange.request, exchange.response, exchange,
                    "upgrade through machine " + backend.machineId() + ": " + e.getMessage());
        }
    }

    private static byte[] head(Exchange exchange, BiConsumer<Exchange, HttpFields.Mutable> forwardHeaders) {
        var request = exchange.request;
        var uri = request.getHttpURI();
        var out = new StringBuilder(512);
        out.append(request.getMethod()).append(' ').append(uri.getPathQuery()).append(" HTTP/1.1\r\n");
        for (HttpField field : request.getHeaders()) {
            if (!HOP.contains(field.getLowerCaseName())) {
                out.append(field.getName()).append(": ").append(field.getValue()).append("\r\n");
            }
        }
        var forwarded = HttpFields.build();
        forwardHeaders.accept(exchange, forwarded);
        for (HttpField field : forwarded) {
            out.append(field.getName()).append(": ").append(field.getValue()).append("\r\n");
        }
        out.append("Upgrade: ").append(request.getHeaders().get(HttpHeader.UPGRADE)).append("\r\n");
        out.append("Connection: Upgrade\r\n\r\n");
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The machine's answer to the upgrade request, and the bytes it sent after it. */
    private record Answer(int status, String upgrade, HttpFields fields, byte[] rest) {}

    private static Answer readHead(InputStream in) throws IOException {
        byte[] buffer = new byte[MAX_HEAD];
        int length = 0;
        int end = -1;
        while (end < 0) {
            if (length == buffer.length) {
                throw new IOException("machine's upgrade answer is longer than " + MAX_HEAD + " bytes");
            }
            int n = in.read(buffer, length, buffer.length - length);
            if (n < 0) {
                throw new IOException("machine closed the connection before answering the upgrade");
            }
            int from = Math.max(0, length - 3);
            length += n;
            for (int i = from; i + 3 < length; i++) {
                if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n') {
                    end = i;
                    break;
                }
            }
        }
        String[] lines = new String(buffer, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw new IOException("machine's upgrade answer has no HTTP/1.x status line");
        }
        int status;
        try {
            status = Integer.parseInt(statusLine[1]);
        } catch (NumberFormatException e) {
            throw new IOException("machine's upgrade answer has status " + statusLine[1]);
        }
        String upgrade = "websocket";
        var fields = HttpFields.build();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = lines[i].substring(0, colon).trim();
            String value = lines[i].substring(colon + 1).trim();
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("upgrade")) {
                upgrade = value;
            } else if (ANSWER.contains(lower)) {
                fields.add(name, value);
            }
        }
        return new Answer(status, upgrade, fields.asImmutable(), Arrays.copyOfRange(buffer, end + 4, length));
    }

    static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing a socket that failed already: nothing left to do.
        }
    }
}
