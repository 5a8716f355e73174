package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.runtime.guest.GuestEvent;
import dev.bolero.runtime.guest.GuestSession;
import dev.bolero.runtime.guest.TerminalSize;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The clients attached to one run of a machine's workload ({@link MachineService#attach}): each gets the workload's
 * output as it comes and its end; for a workload whose stdin is open, the last {@value #REPLAY_BYTES} bytes of what
 * came before it attached first (so a client that attaches once the machine runs still sees a shell's first prompt); each may write to the workload's
 * stdin and resize its terminal when the machine's init opened them. Output is the log's, relayed raw (a prompt
 * without a line end shows at once); the log itself is written by the conversation. Thread-safe.
 */
final class Attachments {
    /** How much of the output before a client attached it is shown first. */
    static final int REPLAY_BYTES = 64 * 1024;

    private final String machineId;
    private final Supplier<GuestSession> session;
    private final boolean keep;
    private final ArrayDeque<Chunk> replay = new ArrayDeque<>();
    private int replayed;
    private final List<ExecSession.Listener> listeners = new ArrayList<>();
    private boolean ended;

    private record Chunk(GuestEvent.Stream stream, byte[] data) {}

    /**
     * Attachments whose input goes over the conversation's current session ({@code session}: null while none); with
     * {@code keep}, the output's last {@value #REPLAY_BYTES} bytes are kept for clients to come.
     */
    Attachments(String machineId, Supplier<GuestSession> session, boolean keep) {
        this.machineId = machineId;
        this.session = session;
        this.keep = keep;
    }

    /** A chunk of the workload's output: sent to the clients attached, and kept for those to come. */
    synchronized void output(GuestEvent.Stream stream, byte[] data) {
        if (ended) return;
        if (keep) {
            replay.addLast(new Chunk(stream, data));
            replayed += data.length;
            while (replayed - replay.peekFirst().data.length >= REPLAY_BYTES) {
                replayed -= replay.removeFirst().data.length;
            }
        }
        for (ExecSession.Listener l : listeners) l.output(stream, data, () -> { });
    }

    /** The workload exited with {@code status}: each client hears it, and nobody attaches to this run any more. */
    void exited(int status) {
        for (ExecSession.Listener l : end()) l.exited(status);
    }

    /** The run ended without an exit status ({@code why}): each client hears it as a failure. */
    void failed(String why) {
        for (ExecSession.Listener l : end()) {
            l.failed(ApiException.failedPrecondition("attach to machine " + machineId + ": " + why));
        }
    }

    /**
     * Ends this run's attachments: the clients attached, to be told outside the lock (a client's socket closing
     * detaches it, which takes the lock, possibly on another thread the close waits for).
     */
    private synchronized List<ExecSession.Listener> end() {
        if (ended) return List.of();
        ended = true;
        var told = List.copyOf(listeners);
        listeners.clear();
        return told;
    }

    /**
     * Attaches {@code listener}: it gets the kept output at once, then what comes. Closing the session detaches it
     * (the workload runs on).
     *
     * @throws ApiException {@code conflict} when this run has ended
     */
    synchronized ExecSession attach(ExecSession.Listener listener) {
        if (ended) throw ApiException.conflict("attach to machine " + machineId + ": its workload has ended");
        for (Chunk c : replay) listener.output(c.stream, c.data, () -> { });
        listeners.add(listener);
        return new Attached(listener);
    }

    private synchronized void detach(ExecSession.Listener listener) {
        listeners.remove(listener);
    }

    /** One client's session: input and resizes for the workload, close to detach. */
    private final class Attached implements ExecSession {
        private final ExecSession.Listener listener;

        Attached(ExecSession.Listener listener) {
            this.listener = listener;
        }

        @Override
        public void input(byte[] data) {
            if (data.length > 0) send(s -> s.input(data));
        }

        @Override
        public void closeInput() {
            send(s -> s.input(new byte[0]));
        }

        @Override
        public void resize(int rows, int cols) {
            TerminalSize size = new TerminalSize(rows, cols);
            send(s -> s.resize(size));
        }

        @Override
        public void signal(int signal) {
            send(s -> s.signal(signal));
        }

        @Override
        public void close() {
            detach(listener);
        }

        private interface Frame {
            void send(GuestSession s) throws IOException;
        }

        /** @throws ApiException {@code conflict} while the guest is not connected, {@code internal} when a send fails */
        private void send(Frame frame) {
            GuestSession s = session.get();
            if (s == null) throw ApiException.conflict("attach to machine " + machineId + ": its guest is not connected");
            try {
                frame.send(s);
            } catch (IOException e) {
                throw new ApiException(ErrorCode.INTERNAL,
                        "attach to machine " + machineId + ": the guest's control channel failed: " + e.getMessage());
            }
        }
    }
}
