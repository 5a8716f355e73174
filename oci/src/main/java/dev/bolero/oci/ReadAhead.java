package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a stream ahead of its consumer on its own platform thread, through a bounded queue of chunks, so that
 * producing the bytes (network, decompression, hashing) and using them run on two cores. A failure of the source is
 * rethrown to the consumer when it reaches that point. {@link #close} stops the reader and waits for it: once it
 * returned, the source is no longer touched.
 */
final class ReadAhead extends ChunkedInputStream {
    private static final int CHUNK = 1024 * 1024;
    private static final int CHUNKS = 8;
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(CHUNKS);
    private final Thread reader;
    private volatile IOException failure;
    private byte[] current = new byte[0];
    private int position;
    private boolean ended;

    ReadAhead(InputStream source) {
        reader = Thread.ofPlatform().name("layer-read-ahead").daemon().start(() -> {
            try {
                while (true) {
                    byte[] chunk = new byte[CHUNK]; // filled in place: readNBytes would copy every byte once more
                    int filled = 0;
                    for (int n; filled < CHUNK && (n = source.read(chunk, filled, CHUNK - filled)) >= 0; ) {
                        filled += n;
                    }
                    if (filled == 0) {
                        break;
                    }
                    chunks.put(filled == CHUNK ? chunk : Arrays.copyOf(chunk, filled));
                }
            } catch (IOException e) {
                failure = e;
            } catch (RuntimeException e) {
                failure = new IOException(e.toString(), e);
            } catch (InterruptedException e) {
                return; // closed by the consumer
            }
            try {
                chunks.put(END);
            } catch (InterruptedException e) {
                // closed by the consumer
            }
        });
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        while (position == current.length) {
            if (ended) {
                return -1;
            }
            try {
                current = chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading a layer");
            }
            position = 0;
            if (current == END) {
                ended = true;
                if (failure != null) {
                    throw failure;
                }
            }
        }
        int n = Math.min(length, current.length - position);
        System.arraycopy(current, position, buffer, offset, n);
        position += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        reader.interrupt();
        try {
            reader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping a layer's reader");
        }
    }
}
