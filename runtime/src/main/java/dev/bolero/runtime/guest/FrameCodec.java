package dev.bolero.runtime.guest;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The framing of the guest protocol: 1 byte type, 4 bytes unsigned big-endian payload length (at most
 * {@link #MAX_PAYLOAD}), the payload. Knows nothing about what the types mean.
 */
final class FrameCodec {
    static final int MAX_PAYLOAD = 1 << 20;
    static final int HEADER = 5;

    static final int HELLO = 0x01;
    static final int STARTED = 0x02;
    static final int STDOUT = 0x03;
    static final int STDERR = 0x04;
    static final int EXITED = 0x05;
    static final int FAILED = 0x06;
    static final int EXEC_STARTED = 0x07;
    static final int EXEC_STDOUT = 0x08;
    static final int EXEC_STDERR = 0x09;
    static final int EXEC_EXITED = 0x0a;
    static final int EXEC_FAILED = 0x0b;
    static final int SEQUENCE = 0x0d;
    static final int FROZEN = 0x0e;
    static final int CONFIG = 0x81;
    static final int SIGNAL = 0x82;
    static final int ACK = 0x83;
    static final int EXEC = 0x84;
    static final int EXEC_INPUT = 0x85;
    static final int EXEC_SIGNAL = 0x86;
    static final int EXEC_RESIZE = 0x87;
    static final int RECEIVED = 0x88;
    static final int EXEC_CREDIT = 0x89;
    static final int CLOCK = 0x8a;
    static final int IDENTITY = 0x8b;
    static final int INPUT = 0x8c;
    static final int RESIZE = 0x8d;
    static final int VOLUME_GROWN = 0x8e;
    static final int FREEZE = 0x8f;

    /** One frame; {@code type} is 0–255. */
    record Frame(int type, byte[] payload) {}

    private FrameCodec() {}

    static ByteBuffer encode(int type, byte[] payload) {
        if (type < 0 || type > 0xff) throw new IllegalArgumentException("frame type out of range: " + type);
        if (payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException(
                    "frame payload of " + payload.length + " bytes is over the limit of " + MAX_PAYLOAD);
        }
        ByteBuffer buf = ByteBuffer.allocate(HEADER + payload.length);
        buf.put((byte) type).putInt(payload.length).put(payload).flip();
        return buf;
    }

    static void write(WritableByteChannel channel, int type, byte[] payload) throws IOException {
        ByteBuffer buf = encode(type, payload);
        while (buf.hasRemaining()) channel.write(buf);
    }

    /**
     * Reads one frame.
     *
     * @throws EOFException when the stream ends before a frame starts, or inside one
     * @throws GuestProtocolException when the length is over the limit
     */
    static Frame read(ReadableByteChannel channel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        if (!fill(channel, header)) throw new EOFException("guest control channel closed");
        header.flip();
        int type = header.get() & 0xff;
        long length = Integer.toUnsignedLong(header.getInt());
        if (length > MAX_PAYLOAD) {
            throw new GuestProtocolException(String.format(
                    "frame type 0x%02x announces %d bytes, over the limit of %d", type, length, MAX_PAYLOAD));
        }
        ByteBuffer payload = ByteBuffer.allocate((int) length);
        if (!fill(channel, payload) && length > 0) {
            throw new EOFException(String.format("guest control channel closed inside a frame of type 0x%02x", type));
        }
        return new Frame(type, payload.array());
    }

    /** Fills {@code buf}; false when the stream ended before the first byte, EOFException when it ended later. */
    private static boolean fill(ReadableByteChannel channel, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            if (channel.read(buf) < 0) {
                if (buf.position() == 0) return false;
                throw new EOFException("guest control channel closed inside a frame");
            }
        }
        return true;
    }

    /**
     * Appends one {@code key\0value\0} pair of a CONFIG or EXEC payload.
     *
     * @throws IllegalArgumentException when {@code value} holds a NUL, which would split the pair
     */
    static void pair(ByteArrayOutputStream out, String key, String value) {
        if (value.indexOf('\0') >= 0) throw new IllegalArgumentException(key + " contains a NUL: " + value);
        out.writeBytes(key.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }
}
