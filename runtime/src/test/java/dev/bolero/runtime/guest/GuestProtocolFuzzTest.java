package dev.bolero.runtime.guest;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * A hostile guest's bytes on the control channel: whatever it sends, the host's session only returns events within the
 * protocol's limits or fails with an {@link IOException} (the end of the channel, or a {@link GuestProtocolException}
 * naming the bad frame) — never another exception, and never an event larger than a frame may be.
 *
 * <p>Without {@code JAZZER_FUZZ=1} this runs the inputs kept under its resources (regression); with it, Jazzer
 * mutates inputs for the {@code maxDuration} ({@code scripts/fuzz.sh} runs it so in the test suite).
 */
class GuestProtocolFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void aSessionSurvivesAnyBytesFromTheGuest(byte[] input) throws IOException {
        for (long delivered : new long[] {-1, 0, 3}) {
            var channel = new Replay(input);
            try (GuestSession session = delivered < 0 ? new GuestSession(channel)
                    : new GuestSession(channel, delivered)) {
                for (int events = 0; events < 10_000; events++) {
                    GuestEvent event = session.next();
                    if (event instanceof GuestEvent.Output o) {
                        assertThat(o.data().length).isLessThanOrEqualTo(FrameCodec.MAX_PAYLOAD);
                    }
                    if (event instanceof GuestEvent.ExecOutput o) {
                        assertThat(o.data().length).isLessThanOrEqualTo(FrameCodec.MAX_PAYLOAD);
                    }
                    session.confirm();
                }
            } catch (IOException expected) {
                // the channel ended, or the guest broke the protocol: the session says which and is closed
            }
        }
    }

    /** A channel whose reads replay {@code input} then end, and whose writes (the host's answers) are dropped. */
    private static final class Replay implements ByteChannel {
        private final ByteBuffer in;
        private boolean open = true;

        Replay(byte[] input) {
            this.in = ByteBuffer.wrap(input);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (!open) throw new java.nio.channels.ClosedChannelException();
            if (!in.hasRemaining()) return -1;
            int n = Math.min(dst.remaining(), in.remaining());
            dst.put(in.slice(in.position(), n));
            in.position(in.position() + n);
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }
}
