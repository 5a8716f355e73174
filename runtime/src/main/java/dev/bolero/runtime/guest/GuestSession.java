package dev.bolero.runtime.guest;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The host end of one connection to {@code bolero-init}, over a driver's control channel
 * ({@code VmProcess.openControl()}).
 *
 * <p>One thread reads events with {@link #next()} (a blocking call, meant for a virtual thread); any thread may send
 * at the same time. HELLOs the guest sent before it received the CONFIG are not returned once {@link #sendConfig}
 * has been called.
 *
 * <p>The guest keeps every frame but HELLO until the host {@linkplain #confirm() confirms} it, and sends the kept
 * ones again, after a SEQUENCE frame, to the next connection. A session counts frames from the last SEQUENCE (a
 * resumed session ignores frames before the first: the guest sends them again) and skips those delivered already.
 * A guest that replays old sequence numbers thus cannot get a frame logged twice: the host drops what it numbers below
 * what it returned (the guest's own later frames too, until the count passes that mark again).
 *
 * <p>A guest that stops reading the channel cannot hold a sender forever: a write that makes no progress for
 * {@link #WRITE_DEADLINE} closes the session, and the write and {@link #next()} then throw
 * {@link GuestProtocolException} saying so.
 */
public final class GuestSession implements Closeable {
    /** How long one write to the guest may make no progress before the session is closed as broken. */
    public static final Duration WRITE_DEADLINE = Duration.ofSeconds(30);

    private final ByteChannel channel;
    private final Duration writeDeadline;
    /** {@link System#nanoTime()} when the write under way began; 0 while none is. */
    private volatile long writingSince;
    /** Why the session was closed as broken by its write watchdog; null while it is not. */
    private volatile String stalled;
    private volatile boolean closed;
    private final ReentrantLock writeLock = new ReentrantLock();
    private volatile boolean configSent;
    /** The sequence number of the next frame; -1 until a SEQUENCE says. Used only by the reading thread. */
    private long nextSequence;
    /** How many frames (from the VM's first) the host has persisted, so the guest may forget them. */
    private long delivered;
    /** How many frames {@link #next()} has returned or skipped as delivered. */
    private long returned;

    /** Takes ownership of {@code channel}: {@link #close()} closes it. A session with the VM's first frames. */
    public GuestSession(ByteChannel channel) {
        this(channel, WRITE_DEADLINE);
    }

    /** A session whose writes may stall for {@code writeDeadline} before it is closed as broken. */
    GuestSession(ByteChannel channel, Duration writeDeadline) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.writeDeadline = Objects.requireNonNull(writeDeadline, "writeDeadline");
        if (writeDeadline.isNegative() || writeDeadline.isZero()) {
            throw new IllegalArgumentException("write deadline must be positive: " + writeDeadline);
        }
        Thread.ofVirtual().name("guest-write-watchdog").start(this::watchWrites);
    }

    /**
     * Resumes the conversation with a VM whose first {@code delivered} frames an earlier session of this host
     * {@linkplain #confirm() confirmed}: asks the guest to send what it kept again, and skips what was delivered.
     *
     * @throws IOException when the request cannot be written
     */
    public GuestSession(ByteChannel channel, long delivered) throws IOException {
        this(channel);
        if (delivered < 0) throw new IllegalArgumentException("delivered < 0: " + delivered);
        this.delivered = delivered;
        this.returned = delivered;
        this.nextSequence = -1;
        sendReceived(0);
    }

    /**
     * Blocks until the guest's next event.
     *
     * @throws EOFException when the channel ends (the VM stopped, or the VMM dropped the connection)
     * @throws GuestProtocolException when the guest sent an unknown frame type, an oversize length or a malformed
     *     payload, or stopped reading the channel (a write stalled past its deadline); the session is closed then
     * @throws IOException when reading fails
     */
    public GuestEvent next() throws IOException {
        while (true) {
            GuestEvent event;
            try {
                FrameCodec.Frame frame = FrameCodec.read(channel);
                if (frame.type() == FrameCodec.SEQUENCE) {
                    nextSequence = sequence(frame);
                    continue;
                }
                event = decode(frame);
            } catch (GuestProtocolException e) {
                close();
                throw e;
            } catch (IOException e) {
                throw brokenOr(e);
            }
            if (event instanceof GuestEvent.Hello) {
                if (configSent) continue;
                return event;
            }
            if (nextSequence < 0) continue; // sent to an earlier connection: it comes again after a SEQUENCE
            long sequence = nextSequence++;
            if (sequence < returned) continue; // delivered already
            returned = sequence + 1;
            return event;
        }
    }

    /** Sends what to run. The guest accepts the first CONFIG it receives and ignores later ones. */
    public void sendConfig(GuestConfig config) throws IOException {
        send(FrameCodec.CONFIG, config.encode());
        configSent = true;
    }

    /**
     * Sets the guest's realtime clock to {@code now} (a resumed VM's clock stood still while it was suspended).
     *
     * @throws IOException when the frame cannot be written
     */
    public void setClock(java.time.Instant now) throws IOException {
        long ns = Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
        send(FrameCodec.CLOCK, ByteBuffer.allocate(8).putLong(ns).array());
    }

    /**
     * Gives a VM resumed from another's snapshot (a fork's clone) its own identity; send it right after the resume,
     * before anything that depends on the guest's address, hostname or random numbers.
     *
     * @throws IOException when the frame cannot be written
     */
    public void setIdentity(GuestIdentity identity) throws IOException {
        send(FrameCodec.IDENTITY, identity.encode());
    }

    /** Asks the guest to deliver signal {@code signal} to the workload's process group. */
    public void signal(int signal) throws IOException {
        if (signal < 1 || signal > 64) throw new IllegalArgumentException("no such signal: " + signal);
        send(FrameCodec.SIGNAL, ByteBuffer.allocate(4).putInt(signal).array());
    }

    /**
     * Runs a command beside the workload; its events carry {@code execId}. Follow with {@link #execInput} (at least
     * the empty one that closes its stdin).
     */
    public void exec(int execId, GuestExec exec) throws IOException {
        send(FrameCodec.EXEC, withId(execId, exec.encode()));
    }

    /**
     * Writes {@code data} to a command's stdin; an empty array closes it. Data is sent in chunks of at most 64 KiB.
     */
    public void execInput(int execId, byte[] data) throws IOException {
        int chunk = 64 * 1024;
        if (data.length == 0) {
            send(FrameCodec.EXEC_INPUT, withId(execId, data));
            return;
        }
        for (int off = 0; off < data.length; off += chunk) {
            send(FrameCodec.EXEC_INPUT,
                    withId(execId, java.util.Arrays.copyOfRange(data, off, Math.min(data.length, off + chunk))));
        }
    }

    /**
     * Delivers {@code signal} to a command's process group; for a command on a terminal, to every process of its
     * session (an interactive shell puts its jobs in process groups of their own).
     */
    public void execSignal(int execId, int signal) throws IOException {
        if (signal < 1 || signal > 64) throw new IllegalArgumentException("no such signal: " + signal);
        send(FrameCodec.EXEC_SIGNAL, ByteBuffer.allocate(8).putInt(execId).putInt(signal).array());
    }

    /** Sets the size of a command's pseudo-terminal (one started with a {@link GuestExec#tty()}); else ignored. */
    public void execResize(int execId, TerminalSize size) throws IOException {
        send(FrameCodec.EXEC_RESIZE, ByteBuffer.allocate(8).putInt(execId).putShort((short) size.rows())
                .putShort((short) size.cols()).array());
    }

    /**
     * Lets a command send {@code bytes} more bytes of output (EXEC_CREDIT): the guest stops reading its output once
     * the bytes granted so far are sent, so the command blocks on its full pipe or terminal until the host grants
     * more. A command gets no output through before its first grant.
     */
    public void execCredit(int execId, int bytes) throws IOException {
        if (bytes <= 0) throw new IllegalArgumentException("exec credit must be positive: " + bytes);
        send(FrameCodec.EXEC_CREDIT, ByteBuffer.allocate(8).putInt(execId).putInt(bytes).array());
    }

    /**
     * Tells the guest that every event {@link #next()} returned so far is persisted: it forgets those frames.
     *
     * @return how many frames of the VM are delivered, for the next session ({@link #GuestSession(ByteChannel, long)})
     * @throws IOException when the confirmation cannot be written
     */
    public long confirm() throws IOException {
        if (returned > delivered) {
            sendReceived(returned);
            delivered = returned;
        }
        return delivered;
    }

    /**
     * {@link #confirm()}, unless another thread is writing to the guest: then nothing is sent and what was delivered
     * before is returned. The thread reading the guest calls this between events: it must never wait behind a write
     * the guest may read only once its own writes (which that thread drains) go through. The next confirmation covers
     * the frames skipped here (the guest forgets every frame up to the number it is told).
     *
     * @throws IOException when the confirmation cannot be written
     */
    public long confirmUnlessWriting() throws IOException {
        if (returned <= delivered || !writeLock.tryLock()) return delivered;
        try {
            return confirm();
        } finally {
            writeLock.unlock();
        }
    }

    /** How many frames of the VM are delivered: confirmed by this session or an earlier one. */
    public long delivered() {
        return delivered;
    }

    /** Acknowledges EXITED or FAILED: the guest syncs its disks and powers off. */
    public void ack() throws IOException {
        send(FrameCodec.ACK, new byte[0]);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
    }

    /** Closes the session when a write has made no progress for the deadline; ends with the session. */
    private void watchWrites() {
        long tick = Math.max(1, Math.min(writeDeadline.toMillis() / 4, 1000));
        try {
            while (!closed) {
                Thread.sleep(tick);
                long since = writingSince;
                if (since != 0 && System.nanoTime() - since > writeDeadline.toNanos()) {
                    stalled = "the guest read nothing of its control channel for " + writeDeadline.toSeconds()
                            + " s (a write to it made no progress)";
                    close();
                }
            }
        } catch (InterruptedException | IOException e) {
            // nothing to watch any more
        }
    }

    /** The stall that closed the session, when one did, as the error to throw instead of {@code e}. */
    private IOException brokenOr(IOException e) {
        String why = stalled;
        return why == null ? e : new GuestProtocolException(why);
    }

    private void sendReceived(long upTo) throws IOException {
        send(FrameCodec.RECEIVED, ByteBuffer.allocate(8).putLong(upTo).array());
    }

    /** A SEQUENCE's number; one of 2^62 or more is out of the protocol (init counts from 0, by one per frame). */
    private static long sequence(FrameCodec.Frame frame) throws GuestProtocolException {
        if (frame.payload().length != 8) {
            throw new GuestProtocolException(String.format(
                    "frame type 0x%02x needs an 8-byte payload, got %d bytes", frame.type(), frame.payload().length));
        }
        long sequence = ByteBuffer.wrap(frame.payload()).getLong();
        if (sequence < 0 || sequence >= 1L << 62) {
            throw new GuestProtocolException("SEQUENCE " + Long.toUnsignedString(sequence)
                    + " is 2^62 or more: no guest sends that many frames");
        }
        return sequence;
    }

    private void send(int type, byte[] payload) throws IOException {
        writeLock.lock();
        try {
            writingSince = System.nanoTime() | 1; // never 0, which means "no write"
            FrameCodec.write(channel, type, payload);
        } catch (IOException e) {
            throw brokenOr(e);
        } finally {
            writingSince = 0;
            writeLock.unlock();
        }
    }

    static GuestEvent decode(FrameCodec.Frame frame) throws GuestProtocolException {
        byte[] p = frame.payload();
        return switch (frame.type()) {
            case FrameCodec.HELLO -> new GuestEvent.Hello(new String(p, StandardCharsets.UTF_8));
            case FrameCodec.STARTED -> new GuestEvent.Started(int32(frame));
            case FrameCodec.STDOUT -> new GuestEvent.Output(GuestEvent.Stream.STDOUT, p);
            case FrameCodec.STDERR -> new GuestEvent.Output(GuestEvent.Stream.STDERR, p);
            case FrameCodec.EXITED -> new GuestEvent.Exited(int32(frame));
            case FrameCodec.FAILED -> new GuestEvent.Failed(new String(p, StandardCharsets.UTF_8));
            case FrameCodec.EXEC_STARTED -> new GuestEvent.ExecStarted(execId(frame), int32At(frame, 4));
            case FrameCodec.EXEC_STDOUT ->
                    new GuestEvent.ExecOutput(execId(frame), GuestEvent.Stream.STDOUT, rest(p));
            case FrameCodec.EXEC_STDERR ->
                    new GuestEvent.ExecOutput(execId(frame), GuestEvent.Stream.STDERR, rest(p));
            case FrameCodec.EXEC_EXITED -> new GuestEvent.ExecExited(execId(frame), int32At(frame, 4));
            case FrameCodec.EXEC_FAILED ->
                    new GuestEvent.ExecFailed(execId(frame), new String(rest(p), StandardCharsets.UTF_8));
            default -> throw new GuestProtocolException(String.format("unknown frame type 0x%02x", frame.type()));
        };
    }

    private static byte[] withId(int execId, byte[] payload) {
        return ByteBuffer.allocate(4 + payload.length).putInt(execId).put(payload).array();
    }

    private static byte[] rest(byte[] payload) {
        return java.util.Arrays.copyOfRange(payload, 4, payload.length);
    }

    private static int execId(FrameCodec.Frame frame) throws GuestProtocolException {
        if (frame.payload().length < 4) {
            throw new GuestProtocolException(String.format(
                    "frame type 0x%02x needs a 4-byte exec id, got %d bytes", frame.type(), frame.payload().length));
        }
        return ByteBuffer.wrap(frame.payload()).getInt();
    }

    /** The payload is an exec id and one 32-bit value. */
    private static int int32At(FrameCodec.Frame frame, int offset) throws GuestProtocolException {
        if (frame.payload().length != offset + 4) {
            throw new GuestProtocolException(String.format("frame type 0x%02x needs a %d-byte payload, got %d bytes",
                    frame.type(), offset + 4, frame.payload().length));
        }
        return ByteBuffer.wrap(frame.payload()).getInt(offset);
    }

    private static int int32(FrameCodec.Frame frame) throws GuestProtocolException {
        if (frame.payload().length != 4) {
            throw new GuestProtocolException(String.format(
                    "frame type 0x%02x needs a 4-byte payload, got %d bytes", frame.type(), frame.payload().length));
        }
        return ByteBuffer.wrap(frame.payload()).getInt();
    }
}
