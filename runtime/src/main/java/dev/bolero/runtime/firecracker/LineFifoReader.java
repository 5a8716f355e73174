package dev.bolero.runtime.firecracker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains a named pipe Firecracker writes (its logger or metrics), handing each line to a consumer, until closed.
 * The pipe is opened read-write so that opening never blocks and a writer's exit is not an end of file: the
 * reader ends when {@link #close()} is called (after the VMM exited).
 */
final class LineFifoReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LineFifoReader.class);

    private final Path fifo;
    private final FileChannel channel;

    private LineFifoReader(Path fifo, FileChannel channel, Consumer<String> lines) {
        this.fifo = fifo;
        this.channel = channel;
        Thread.ofPlatform().daemon().name("fifo " + fifo.getFileName()).start(() -> pump(lines));
    }

    static LineFifoReader start(Path fifo, Consumer<String> lines) throws IOException {
        return new LineFifoReader(
                fifo, FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE), lines);
    }

    private void pump(Consumer<String> lines) {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    byte b = buffer.get();
                    if (b == '\n') {
                        lines.accept(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else {
                        line.write(b);
                    }
                }
                buffer.clear();
            }
        } catch (AsynchronousCloseException closed) {
            // close(): the VMM exited
        } catch (IOException e) {
            LOG.warn("read fifo={} failed={}", fifo, e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            LOG.debug("close fifo={} failed={}", fifo, e.getMessage());
        }
    }
}
