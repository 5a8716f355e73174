package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.runtime.guest.GuestSession;
import dev.bolero.runtime.guest.TerminalSize;
import java.io.IOException;

/** An {@link ExecSession} over the guest protocol: each call one frame to {@code bolero-init}. */
final class StreamedExec implements ExecSession {
    private static final int SIGKILL = 9;

    private final String machineId;
    private final GuestSession session;
    private final int execId;
    private volatile boolean ended;
    private volatile boolean killed;

    StreamedExec(String machineId, GuestSession session, int execId) {
        this.machineId = machineId;
        this.session = session;
        this.execId = execId;
    }

    /** The guest reported the end: later calls do nothing. */
    void ended() {
        ended = true;
    }

    @Override
    public void input(byte[] data) {
        if (data.length > 0) send(() -> session.execInput(execId, data));
    }

    @Override
    public void closeInput() {
        send(() -> session.execInput(execId, new byte[0]));
    }

    @Override
    public void resize(int rows, int cols) {
        TerminalSize size = new TerminalSize(rows, cols);
        send(() -> session.execResize(execId, size));
    }

    @Override
    public void signal(int signal) {
        send(() -> session.execSignal(execId, signal));
    }

    /**
     * Kills the command and lets the rest of its output through (it is dropped: nobody reads it), so the guest does
     * not hold a killed command, or one that ended with output unsent, for want of credit.
     */
    @Override
    public void close() {
        if (ended || killed) return;
        killed = true;
        signal(SIGKILL);
        send(() -> session.execCredit(execId, Integer.MAX_VALUE));
    }

    private interface Frame {
        void send() throws IOException;
    }

    private void send(Frame frame) {
        if (ended) return;
        try {
            frame.send();
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INTERNAL,
                    "exec in machine " + machineId + ": the guest's control channel failed: " + e.getMessage());
        }
    }
}
