package dev.bolero.runtime.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GuestSessionTest {

    /** An in-memory channel: reads from a fixed byte sequence, records writes. */
    static final class BufferChannel implements ByteChannel {
        final ByteBuffer in;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean open = true;

        BufferChannel(byte[] input) {
            in = ByteBuffer.wrap(input);
        }

        @Override
        public int read(ByteBuffer dst) {
            if (!in.hasRemaining()) return -1;
            // hand out at most 3 bytes per read: frames must be reassembled across short reads
            int n = Math.min(Math.min(3, dst.remaining()), in.remaining());
            for (int i = 0; i < n; i++) dst.put(in.get());
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            byte[] b = new byte[n];
            src.get(b);
            out.writeBytes(b);
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

    /** Encoded frames, from pairs of a type and a payload: bytes, or a string sent as UTF-8. */
    private static byte[] frames(Object... typeAndPayload) {
        var out = new ByteArrayOutputStream();
        for (int i = 0; i < typeAndPayload.length; i += 2) {
            byte[] payload = typeAndPayload[i + 1] instanceof String text
                    ? text.getBytes(StandardCharsets.UTF_8) : (byte[]) typeAndPayload[i + 1];
            ByteBuffer b = FrameCodec.encode((Integer) typeAndPayload[i], payload);
            out.write(b.array(), 0, b.limit());
        }
        return out.toByteArray();
    }

    private static byte[] int32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    @Test
    void decodesEveryGuestEventAcrossShortReads() throws IOException {
        var ch = new BufferChannel(frames(
                FrameCodec.HELLO, "bolero-init/1",
                FrameCodec.STARTED, int32(42),
                FrameCodec.STDOUT, "out\n",
                FrameCodec.STDERR, "err\n",
                FrameCodec.EXITED, int32(143),
                FrameCodec.FAILED, "exec /bin/app: No such file or directory"));
        var session = new GuestSession(ch);
        List<GuestEvent> events = new ArrayList<>();
        for (int i = 0; i < 6; i++) events.add(session.next());

        assertThat(events.get(0)).isEqualTo(new GuestEvent.Hello("bolero-init/1"));
        assertThat(events.get(1)).isEqualTo(new GuestEvent.Started(42));
        assertThat(events.get(2)).isInstanceOfSatisfying(GuestEvent.Output.class, o -> {
            assertThat(o.stream()).isEqualTo(GuestEvent.Stream.STDOUT);
            assertThat(o.text()).isEqualTo("out\n");
        });
        assertThat(events.get(3)).isInstanceOfSatisfying(GuestEvent.Output.class, o -> {
            assertThat(o.stream()).isEqualTo(GuestEvent.Stream.STDERR);
            assertThat(o.text()).isEqualTo("err\n");
        });
        assertThat(events.get(4)).isEqualTo(new GuestEvent.Exited(143));
        assertThat(events.get(5)).isEqualTo(new GuestEvent.Failed("exec /bin/app: No such file or directory"));
        assertThatThrownBy(session::next).isInstanceOf(EOFException.class);
    }

    private static byte[] int64(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    @Test
    void aResumedSessionAsksForTheKeptFramesSkipsTheDeliveredAndConfirmsByCount() throws IOException {
        var ch = new BufferChannel(frames(
                FrameCodec.STDOUT, "sent to the old connection\n",
                FrameCodec.SEQUENCE, int64(2),
                FrameCodec.STDOUT, "2 (delivered)\n",
                FrameCodec.STDOUT, "3\n",
                FrameCodec.SEQUENCE, int64(3), // the guest went back once more
                FrameCodec.STDOUT, "3\n",
                FrameCodec.EXITED, int32(0)));
        var session = new GuestSession(ch, 3);
        assertThat(session.next()).isInstanceOfSatisfying(GuestEvent.Output.class,
                o -> assertThat(o.text()).isEqualTo("3\n"));
        assertThat(session.confirm()).isEqualTo(4);
        assertThat(session.next()).isEqualTo(new GuestEvent.Exited(0));
        assertThat(session.confirm()).isEqualTo(5);
        assertThat(session.confirm()).as("nothing new: nothing sent").isEqualTo(5);
        assertThat(ch.out.toByteArray()).isEqualTo(frames(
                FrameCodec.RECEIVED, int64(0), FrameCodec.RECEIVED, int64(4), FrameCodec.RECEIVED, int64(5)));
    }

    @Test
    void hostFramesRoundTripThroughTheCodec() throws IOException {
        var ch = new BufferChannel(new byte[0]);
        var session = new GuestSession(ch);
        var config = new GuestConfig(
                List.of("sh", "-c", "echo hi"),
                List.of("PATH=/bin", "A=b=c"),
                "/srv",
                "app:app",
                "m1",
                "/dev/vda",
                Optional.of("10.0.0.2/24"),
                Optional.of("10.0.0.1"),
                List.of("10.0.0.1"));
        session.sendConfig(config);
        session.signal(15);
        session.ack();

        var in = new BufferChannel(ch.out.toByteArray());
        FrameCodec.Frame cfg = FrameCodec.read(in);
        assertThat(cfg.type()).isEqualTo(FrameCodec.CONFIG);
        assertThat(new String(cfg.payload(), StandardCharsets.UTF_8))
                .isEqualTo(("arg|sh|arg|-c|arg|echo hi|env|PATH=/bin|env|A=b=c|workdir|/srv|"
                        + "user|app:app|hostname|m1|root|/dev/vda|ip|10.0.0.2/24|gateway|10.0.0.1|"
                        + "dns|10.0.0.1|").replace('|', '\0'));
        FrameCodec.Frame sig = FrameCodec.read(in);
        assertThat(sig.type()).isEqualTo(FrameCodec.SIGNAL);
        assertThat(sig.payload()).isEqualTo(int32(15));
        FrameCodec.Frame ack = FrameCodec.read(in);
        assertThat(ack.type()).isEqualTo(FrameCodec.ACK);
        assertThat(ack.payload()).isEmpty();
    }

    @Test
    void helloAfterConfigIsSkipped() throws IOException {
        var ch = new BufferChannel(frames(
                FrameCodec.HELLO, "bolero-init/1",
                FrameCodec.STARTED, int32(7)));
        var session = new GuestSession(ch);
        session.sendConfig(GuestConfig.of(List.of("true"), "m"));
        assertThat(session.next()).isEqualTo(new GuestEvent.Started(7));
    }

    @Test
    void unknownFrameTypeIsAProtocolErrorThatClosesTheSession() {
        var ch = new BufferChannel(frames(0x0c, new byte[0]));
        var session = new GuestSession(ch);
        assertThatThrownBy(session::next)
                .isInstanceOf(GuestProtocolException.class)
                .hasMessage("guest protocol: unknown frame type 0x0c");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void execFramesCarryTheirIdAndDecodeToExecEvents() throws IOException {
        byte[] out = java.nio.ByteBuffer.allocate(6).putInt(9).put((byte) 'h').put((byte) 'i').array();
        byte[] exited = java.nio.ByteBuffer.allocate(8).putInt(9).putInt(3).array();
        byte[] failed = java.nio.ByteBuffer.allocate(8).putInt(10).put("nope".getBytes(StandardCharsets.UTF_8))
                .array();
        var session = new GuestSession(new BufferChannel(frames(
                FrameCodec.EXEC_STDOUT, out, FrameCodec.EXEC_EXITED, exited, FrameCodec.EXEC_FAILED, failed)));
        assertThat(session.next()).isInstanceOfSatisfying(GuestEvent.ExecOutput.class, o -> {
            assertThat(o.execId()).isEqualTo(9);
            assertThat(o.data()).isEqualTo("hi".getBytes(StandardCharsets.UTF_8));
        });
        assertThat(session.next()).isEqualTo(new GuestEvent.ExecExited(9, 3));
        assertThat(session.next()).isEqualTo(new GuestEvent.ExecFailed(10, "nope"));
    }

    @Test
    void anExecOnATerminalCarriesItsSizeAndAResizeIsIdRowsCols() throws IOException {
        var ch = new BufferChannel(new byte[0]);
        var session = new GuestSession(ch);
        session.exec(7, new GuestExec(List.of("sh"), List.of(), Optional.empty(), Optional.empty(),
                Optional.of(new TerminalSize(24, 80))));
        session.execResize(7, new TerminalSize(50, 65535));

        var in = new BufferChannel(ch.out.toByteArray());
        FrameCodec.Frame exec = FrameCodec.read(in);
        assertThat(exec.type()).isEqualTo(FrameCodec.EXEC);
        assertThat(new String(exec.payload(), 4, exec.payload().length - 4, StandardCharsets.UTF_8))
                .isEqualTo("arg|sh|tty|24x80|".replace('|', '\0'));
        FrameCodec.Frame resize = FrameCodec.read(in);
        assertThat(resize.type()).isEqualTo(FrameCodec.EXEC_RESIZE);
        assertThat(resize.payload()).isEqualTo(new byte[] {0, 0, 0, 7, 0, 50, (byte) 0xff, (byte) 0xff});
        assertThatThrownBy(() -> new TerminalSize(0, 80)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("terminal size must be 1 to 65535 rows and columns, got 0x80");
    }

    @Test
    void execCreditIsIdAndByteCount() throws IOException {
        var ch = new BufferChannel(new byte[0]);
        var session = new GuestSession(ch);
        session.execCredit(7, 0x40000);

        FrameCodec.Frame credit = FrameCodec.read(new BufferChannel(ch.out.toByteArray()));
        assertThat(credit.type()).isEqualTo(FrameCodec.EXEC_CREDIT);
        assertThat(credit.payload()).isEqualTo(new byte[] {0, 0, 0, 7, 0, 4, 0, 0});
        assertThatThrownBy(() -> session.execCredit(7, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("exec credit must be positive: 0");
    }

    @Test
    void clockIsTheRealtimeInNanosecondsSinceTheEpoch() throws IOException {
        var ch = new BufferChannel(new byte[0]);
        new GuestSession(ch).setClock(java.time.Instant.ofEpochSecond(1, 2));

        FrameCodec.Frame clock = FrameCodec.read(new BufferChannel(ch.out.toByteArray()));
        assertThat(clock.type()).isEqualTo(FrameCodec.CLOCK);
        assertThat(java.nio.ByteBuffer.wrap(clock.payload()).getLong()).isEqualTo(1_000_000_002L);
    }

    @Test
    void anExecFrameWithoutItsIdIsAProtocolError() {
        var session = new GuestSession(new BufferChannel(frames(FrameCodec.EXEC_EXITED, new byte[3])));
        assertThatThrownBy(session::next).isInstanceOf(GuestProtocolException.class)
                .hasMessage("guest protocol: frame type 0x0a needs a 4-byte exec id, got 3 bytes");
    }

    @Test
    void hostTypeFromTheGuestIsAProtocolError() {
        var session = new GuestSession(new BufferChannel(frames(FrameCodec.ACK, new byte[0])));
        assertThatThrownBy(session::next).isInstanceOf(GuestProtocolException.class).hasMessageContaining("0x83");
    }

    @Test
    void oversizeLengthIsAProtocolErrorBeforeAnyAllocation() {
        byte[] header = ByteBuffer.allocate(5).put((byte) FrameCodec.STDOUT).putInt(FrameCodec.MAX_PAYLOAD + 1).array();
        var ch = new BufferChannel(header);
        var session = new GuestSession(ch);
        assertThatThrownBy(session::next)
                .isInstanceOf(GuestProtocolException.class)
                .hasMessageContaining("1048577 bytes, over the limit of 1048576");
        assertThat(ch.isOpen()).isFalse();
        byte[] huge = ByteBuffer.allocate(5).put((byte) FrameCodec.STDOUT).putInt(-1).array();
        assertThatThrownBy(new GuestSession(new BufferChannel(huge))::next)
                .isInstanceOf(GuestProtocolException.class)
                .hasMessageContaining("4294967295 bytes");
    }

    @Test
    void exactlyMaxPayloadIsAccepted() throws IOException {
        byte[] big = new byte[FrameCodec.MAX_PAYLOAD];
        var session = new GuestSession(new BufferChannel(frames(FrameCodec.STDOUT, big)));
        assertThat(session.next()).isInstanceOfSatisfying(GuestEvent.Output.class,
                o -> assertThat(o.data()).hasSize(FrameCodec.MAX_PAYLOAD));
    }

    @Test
    void truncatedFrameIsEof() {
        byte[] f = frames(FrameCodec.STDOUT, "abcdef");
        var session = new GuestSession(new BufferChannel(java.util.Arrays.copyOf(f, f.length - 2)));
        assertThatThrownBy(session::next).isInstanceOf(EOFException.class).hasMessageContaining("inside a frame");
    }

    @Test
    void wrongSizedIntegerPayloadIsAProtocolError() {
        var session = new GuestSession(new BufferChannel(frames(FrameCodec.EXITED, new byte[3])));
        assertThatThrownBy(session::next)
                .isInstanceOf(GuestProtocolException.class)
                .hasMessageContaining("4-byte payload, got 3");
    }

    @Test
    void aReplayedSequenceNumberGetsNoFrameDeliveredTwice() throws IOException {
        var ch = new BufferChannel(frames(
                FrameCodec.SEQUENCE, int64(0),
                FrameCodec.STARTED, int32(7),
                FrameCodec.STDOUT, "1\n",
                FrameCodec.STDOUT, "2\n",
                FrameCodec.SEQUENCE, int64(1), // replayed: the guest goes back without being asked
                FrameCodec.STDOUT, "forged 1\n",
                FrameCodec.STDOUT, "forged 2\n",
                FrameCodec.STDOUT, "3\n"));
        var session = new GuestSession(ch);
        assertThat(session.next()).isEqualTo(new GuestEvent.Started(7));
        assertThat(session.next()).isInstanceOfSatisfying(GuestEvent.Output.class, o -> assertThat(o.text()).isEqualTo("1\n"));
        assertThat(session.next()).isInstanceOfSatisfying(GuestEvent.Output.class, o -> assertThat(o.text()).isEqualTo("2\n"));
        assertThat(session.next()).as("frames numbered 1 and 2 again are dropped, 3 is new")
                .isInstanceOfSatisfying(GuestEvent.Output.class, o -> assertThat(o.text()).isEqualTo("3\n"));
        assertThat(session.confirm()).isEqualTo(4);
    }

    @Test
    void aSequenceNumberNoGuestCanReachIsAProtocolError() {
        for (long n : new long[] {-1, Long.MAX_VALUE, 1L << 62}) {
            var session = new GuestSession(new BufferChannel(frames(FrameCodec.SEQUENCE, int64(n))));
            assertThatThrownBy(session::next).as("SEQUENCE %s", Long.toUnsignedString(n))
                    .isInstanceOf(GuestProtocolException.class).hasMessageContaining("2^62 or more");
        }
    }

    @Test
    void theReaderConfirmsWithoutWaitingBehindAWriteTheGuestDoesNotRead() throws Exception {
        var ch = new MuteChannel(frames(FrameCodec.STDOUT, "1\n", FrameCodec.STDOUT, "2\n"));
        var session = new GuestSession(ch, java.time.Duration.ofMinutes(5));
        var writer = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                session.signal(15);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, runnable -> Thread.ofVirtual().start(runnable));
        assertThat(session.next()).isInstanceOf(GuestEvent.Output.class);
        ch.writing.await();
        assertThat(session.confirmUnlessWriting()).as("skipped: the signal is being written").isZero();
        assertThat(session.next()).isInstanceOf(GuestEvent.Output.class);
        assertThat(session.confirmUnlessWriting()).isZero();
        assertThat(writer).isNotDone();
        ch.unblock();
        writer.join();
        assertThat(session.confirmUnlessWriting()).as("no write in the way: both frames confirmed").isEqualTo(2);
        assertThat(ch.written.toByteArray()).as("the signal, then one RECEIVED of 2")
                .isEqualTo(concat(FrameCodec.encode(FrameCodec.SIGNAL, int32(15)),
                        FrameCodec.encode(FrameCodec.RECEIVED, int64(2))));
    }

    private static byte[] concat(ByteBuffer a, ByteBuffer b) {
        var out = new ByteArrayOutputStream();
        out.write(a.array(), 0, a.limit());
        out.write(b.array(), 0, b.limit());
        return out.toByteArray();
    }

    /** A guest that sends {@code input} but reads nothing until {@link #unblock()}: writes block until then. */
    static final class MuteChannel implements ByteChannel {
        final java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        private final ByteBuffer in;

        MuteChannel(byte[] input) {
            in = ByteBuffer.wrap(input);
        }

        void unblock() {
            reading.countDown();
        }

        @Override
        public int read(ByteBuffer dst) {
            if (!in.hasRemaining()) return -1;
            int n = Math.min(dst.remaining(), in.remaining());
            for (int i = 0; i < n; i++) dst.put(in.get());
            return n;
        }

        @Override
        public synchronized int write(ByteBuffer src) throws IOException {
            writing.countDown();
            try {
                reading.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            int n = src.remaining();
            byte[] b = new byte[n];
            src.get(b);
            written.writeBytes(b);
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
            reading.countDown();
        }
    }

    /** A guest that neither sends nor reads: reads and writes block until the channel is closed. */
    static final class DeafChannel implements ByteChannel {
        private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return block();
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return block();
        }

        private int block() throws IOException {
            try {
                closed.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            throw new java.nio.channels.AsynchronousCloseException();
        }

        @Override
        public boolean isOpen() {
            return closed.getCount() > 0;
        }

        @Override
        public void close() {
            closed.countDown();
        }
    }

    @Test
    void aWriteTheGuestNeverReadsClosesTheSessionAtItsDeadlineAndBothSidesSaySo() throws Exception {
        var ch = new DeafChannel();
        var session = new GuestSession(ch, java.time.Duration.ofMillis(200));
        var reader = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return session.next();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, runnable -> Thread.ofVirtual().start(runnable));
        assertThatThrownBy(() -> session.signal(15)).isInstanceOf(GuestProtocolException.class)
                .hasMessageContaining("read nothing of its control channel");
        assertThat(ch.isOpen()).isFalse();
        assertThatThrownBy(reader::join).hasCauseInstanceOf(java.io.UncheckedIOException.class)
                .hasRootCauseInstanceOf(GuestProtocolException.class)
                .hasMessageContaining("read nothing of its control channel");
        assertThatThrownBy(() -> session.signal(15)).as("later writes fail at once")
                .isInstanceOf(GuestProtocolException.class);
    }
}
