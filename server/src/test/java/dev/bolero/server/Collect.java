package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Puts each whole message a socket receives into a queue: {@code text:…}, {@code binary:…} (decoded as UTF-8),
 * {@code close:CODE:REASON}.
 */
public final class Collect implements WebSocket.Listener {
    final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
            received.add("text:" + text);
            text.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        binary.writeBytes(bytes);
        if (last) {
            received.add("binary:" + binary.toString(StandardCharsets.UTF_8));
            binary.reset();
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
        received.add("close:" + code + ":" + reason);
        return null;
    }

    /** The next message, waiting for it up to 30 s. */
    public String next() throws InterruptedException {
        String m = received.poll(30, TimeUnit.SECONDS);
        assertThat(m).as("a message within 30 s").isNotNull();
        return m;
    }
}
