package dev.bolero.api.testing;

import dev.bolero.api.ApiJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A POST that declares a body larger than a server accepts and sends only its first bytes, then reads the answer.
 * A server that refuses the body by its declared length answers before reading it and may close the connection
 * without draining the rest; a client sending the whole body would then see a reset instead of the answer, so tests
 * of that refusal use this.
 */
public final class OversizedRequest {
    private OversizedRequest() {}

    /** The status and JSON body of a refused request. */
    public record Answer(int status, JsonNode body) {
        /** The {@code error.code} of a JSON error answer. */
        public String errorCode() {
            return body.path("error").path("code").asString();
        }
    }

    /**
     * Posts to {@code 127.0.0.1:port} a JSON body declared as {@code declaredLength} bytes, of which only a few are sent.
     *
     * @throws IOException when the server does not answer within 30 s or the answer is not HTTP with a JSON body
     */
    public static Answer post(int port, String path, Optional<String> bearer, long declaredLength) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + bearer.map(t -> "Authorization: Bearer " + t + "\r\n").orElse("")
                    + "Content-Type: application/json\r\nContent-Length: " + declaredLength + "\r\n\r\n{\"name\": \"";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(readHeadAndBody(in), StandardCharsets.UTF_8);
            int status = Integer.parseInt(answer.substring(answer.indexOf(' ') + 1, answer.indexOf(' ') + 4));
            String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
            return new Answer(status, ApiJson.mapper().readTree(body));
        }
    }

    /** The head and the body (by its Content-Length) of one HTTP answer. */
    private static byte[] readHeadAndBody(InputStream in) throws IOException {
        var buf = new java.io.ByteArrayOutputStream();
        int end = -1;
        long length = -1;
        byte[] chunk = new byte[8192];
        while (true) {
            String seen = buf.toString(StandardCharsets.ISO_8859_1);
            if (end < 0 && (end = seen.indexOf("\r\n\r\n")) >= 0) {
                for (String line : seen.substring(0, end).split("\r\n")) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                    }
                }
                if (length < 0) throw new IOException("answer without Content-Length: " + seen);
            }
            if (end >= 0 && buf.size() >= end + 4 + length) return buf.toByteArray();
            int n = in.read(chunk);
            if (n < 0) throw new IOException("the connection ended before the whole answer: " + seen);
            buf.write(chunk, 0, n);
        }
    }
}
