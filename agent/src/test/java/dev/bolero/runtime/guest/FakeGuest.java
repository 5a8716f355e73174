package dev.bolero.runtime.guest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for {@code bolero-init} in unit tests of the agent: speaks the guest protocol over in-memory pipes. On each
 * connection it announces its next frame's sequence number and says HELLO; on CONFIG it starts the workload (unless
 * told to hang), on SIGNAL it lets the workload die of the signal (unless told to ignore signals), and on the host's ACK
 * it powers off (unless told to stay up). It keeps no unconfirmed frames: a reconnect sees only new ones. Thread-safe.
 */
public final class FakeGuest {
    /** What the guest does after it got its config. */
    public enum Boot {
        /** Reports the workload started. */
        STARTS,
        /** Reports the workload started and at once that it exited with {@link #exitStatus}. */
        STARTS_AND_EXITS,
        /** Never reports anything: a boot that hangs. */
        HANGS
    }

    private volatile Runnable powerOff;
    /** Whether a CONFIG arrived: like bolero-init, the guest no longer says HELLO then. */
    private volatile boolean configured;
    private final List<Long> clocks = new CopyOnWriteArrayList<>();
    private volatile Boot boot = Boot.STARTS;
    private volatile int exitStatus;
    private volatile boolean ignoresSignals;
    private volatile boolean staysUp;
    private final List<Integer> signals = new CopyOnWriteArrayList<>();
    private long sent;
    private Pipe.SinkChannel out;
    private Pipe.SourceChannel in;

    /** @param powerOff what the VM does when the host acknowledged the workload's end */
    public FakeGuest(Runnable powerOff) {
        this.powerOff = powerOff;
    }

    /** The guest now belongs to another VM (it was resumed in it): a power-off ends that one. */
    public void poweringOff(Runnable powerOff) {
        this.powerOff = powerOff;
    }

    /** The realtimes (ns since the epoch) the host set the guest's clock to, in order. */
    public List<Long> clocks() {
        return List.copyOf(clocks);
    }

    public FakeGuest boot(Boot boot, int exitStatus) {
        this.boot = boot;
        this.exitStatus = exitStatus;
        return this;
    }

    public FakeGuest ignoringSignals() {
        this.ignoresSignals = true;
        return this;
    }

    /** Does not power off when the host acknowledged the workload's end: a VM that hangs on its way down. */
    public FakeGuest stayingUpAfterTheEnd() {
        this.staysUp = true;
        return this;
    }

    /** The signals the workload was sent, in order. */
    public List<Integer> signals() {
        return List.copyOf(signals);
    }

    /** A new connection to the guest: the host's end. */
    public synchronized ByteChannel connect() throws IOException {
        Pipe toHost = Pipe.open();
        Pipe toGuest = Pipe.open();
        out = toHost.sink();
        in = toGuest.source();
        Pipe.SourceChannel guestIn = in;
        Thread.ofVirtual().name("fake-guest").start(() -> read(guestIn));
        write(FrameCodec.SEQUENCE, ByteBuffer.allocate(8).putLong(sent).array(), false);
        if (!configured) write(FrameCodec.HELLO, "fake-init/1".getBytes(StandardCharsets.UTF_8), false);
        return new HostEnd(toHost.source(), toGuest.sink());
    }

    /** The workload writes {@code text} to stdout. */
    public void stdout(String text) {
        write(FrameCodec.STDOUT, text.getBytes(StandardCharsets.UTF_8), true);
    }

    /** A hostile guest writes {@code bytes} on the channel as they are (root in a VM can take init's port). */
    public synchronized void raw(byte[] bytes) throws IOException {
        out.write(ByteBuffer.wrap(bytes));
    }

    /** The workload exits with {@code status}. */
    public void exit(int status) {
        write(FrameCodec.EXITED, int32(status), true);
    }

    /** The VM is gone: the host's end of the channel reads its end. */
    public synchronized void disconnect() {
        try {
            if (out != null) out.close();
            if (in != null) in.close();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void read(Pipe.SourceChannel from) {
        try {
            while (true) {
                FrameCodec.Frame frame = FrameCodec.read(from);
                switch (frame.type()) {
                    case FrameCodec.CLOCK -> clocks.add(ByteBuffer.wrap(frame.payload()).getLong());
                    case FrameCodec.CONFIG -> {
                        if (configured) continue;
                        configured = true;
                        if (boot != Boot.HANGS) write(FrameCodec.STARTED, int32(2), true);
                        if (boot == Boot.STARTS_AND_EXITS) exit(exitStatus);
                    }
                    case FrameCodec.SIGNAL -> {
                        int signal = ByteBuffer.wrap(frame.payload()).getInt();
                        signals.add(signal);
                        if (!ignoresSignals) exit(128 + signal);
                    }
                    case FrameCodec.ACK -> {
                        if (!staysUp) powerOff.run();
                    }
                    default -> { } // RECEIVED, exec frames: nothing to do
                }
            }
        } catch (IOException e) {
            // the connection ended
        }
    }

    private synchronized void write(int type, byte[] payload, boolean sequenced) {
        try {
            if (out == null || !out.isOpen()) return; // not connected: a real guest would keep it; tests do not need that
            FrameCodec.write(out, type, payload);
            if (sequenced) sent++;
        } catch (IOException e) {
            // the host went away
        }
    }

    private static byte[] int32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    /** The host's end of a connection: reads what the guest sends, writes to the guest. */
    private record HostEnd(Pipe.SourceChannel from, Pipe.SinkChannel to) implements ByteChannel {
        @Override
        public int read(ByteBuffer dst) throws IOException {
            return from.read(dst);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return to.write(src);
        }

        @Override
        public boolean isOpen() {
            return from.isOpen();
        }

        @Override
        public void close() throws IOException {
            from.close();
            to.close();
        }
    }
}
