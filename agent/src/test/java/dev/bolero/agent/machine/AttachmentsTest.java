package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.runtime.guest.GuestEvent;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Who hears a workload's output and end, and what a late client sees first. */
class AttachmentsTest {
    /** What one client heard. */
    private static final class Client implements ExecSession.Listener {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final List<String> ends = new ArrayList<>();

        @Override
        public void output(GuestEvent.Stream stream, byte[] data, Runnable sent) {
            out.writeBytes(data);
        }

        @Override
        public void exited(int exitCode) {
            ends.add("exited " + exitCode);
        }

        @Override
        public void failed(ApiException error) {
            ends.add(error.getMessage());
        }
    }

    @Test
    void aLateClientSeesTheLastOutputOfAWorkloadWithOpenStdinThenWhatComesAndTheExit() {
        var attachments = new Attachments("m1", () -> null, true);
        attachments.output(GuestEvent.Stream.STDOUT, "/ # ".getBytes());
        var late = new Client();
        attachments.attach(late);
        attachments.output(GuestEvent.Stream.STDOUT, "ls\r\n".getBytes());
        attachments.exited(3);

        assertThat(late.out.toString()).isEqualTo("/ # ls\r\n");
        assertThat(late.ends).containsExactly("exited 3");
        assertThatThrownBy(() -> attachments.attach(new Client())).isInstanceOf(ApiException.class)
                .hasMessage("attach to machine m1: its workload has ended");
    }

    @Test
    void theKeptOutputIsBoundedAndAWorkloadWithoutStdinKeepsNone() {
        var kept = new Attachments("m1", () -> null, true);
        var none = new Attachments("m2", () -> null, false);
        byte[] chunk = new byte[Attachments.REPLAY_BYTES / 4];
        for (int i = 0; i < 10; i++) {
            kept.output(GuestEvent.Stream.STDOUT, chunk);
            none.output(GuestEvent.Stream.STDOUT, chunk);
        }
        var a = new Client();
        kept.attach(a);
        var b = new Client();
        none.attach(b);
        assertThat(a.out.size()).isEqualTo(Attachments.REPLAY_BYTES);
        assertThat(b.out.size()).isZero();
    }

    @Test
    void aDetachedClientHearsNothingMoreAndInputWithoutAGuestIsAConflict() {
        var attachments = new Attachments("m1", () -> null, true);
        var gone = new Client();
        var stays = new Client();
        var session = attachments.attach(gone);
        attachments.attach(stays);
        session.close();
        attachments.output(GuestEvent.Stream.STDERR, "oops\n".getBytes());
        attachments.failed("the VMM crashed");

        assertThat(gone.out.size()).isZero();
        assertThat(gone.ends).isEmpty();
        assertThat(stays.out.toString()).isEqualTo("oops\n");
        assertThat(stays.ends).containsExactly("attach to machine m1: the VMM crashed");
        assertThatThrownBy(() -> session.input("x".getBytes())).isInstanceOf(ApiException.class)
                .hasMessage("attach to machine m1: its guest is not connected");
    }
}
