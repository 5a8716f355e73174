package dev.bolero.runtime.guest;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;

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
            var channel = new GuestSessionTest.BufferChannel(input); // short reads: frames span them
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
}
