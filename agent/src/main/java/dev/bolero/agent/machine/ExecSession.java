package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.runtime.guest.GuestEvent;

/**
 * A command running in a machine with its input open ({@link MachineService#openExec}). Thread-safe. Every method
 * does nothing once the command has ended.
 *
 * @see dev.bolero.api.ExecStream
 */
public interface ExecSession extends AutoCloseable {
    /**
     * Writes {@code data} to the command's stdin (its terminal's input with a tty).
     *
     * @throws ApiException {@code internal} when the guest's control channel fails
     */
    void input(byte[] data);

    /**
     * Ends the command's stdin once the input before is written; on a terminal this does nothing.
     *
     * @throws ApiException {@code internal} when the guest's control channel fails
     */
    void closeInput();

    /**
     * Sets the size of the command's terminal; without one it does nothing.
     *
     * @throws ApiException {@code internal} when the guest's control channel fails
     */
    void resize(int rows, int cols);

    /**
     * Delivers {@code signal} (1–64) to the command's process group, or on a terminal to every process of its
     * session.
     *
     * @throws ApiException {@code internal} when the guest's control channel fails
     */
    void signal(int signal);

    /** Kills the command (SIGKILL, as {@link #signal}) unless it has ended; its end is still reported. Idempotent. */
    @Override
    void close();

    /** Where a command's output and end go; called on the machine's reader thread, in order, never concurrently. */
    interface Listener {
        /**
         * A chunk of output; on a terminal everything is {@code STDOUT}. Run {@code sent} once the chunk has left
         * (from any thread, without blocking on it here): the command's output is held back in the guest while
         * {@value ExecCalls#WINDOW} bytes are not yet sent, so a slow client slows the command, not the agent.
         */
        void output(GuestEvent.Stream stream, byte[] data, Runnable sent);

        /** The command ended with {@code exitCode} (128+N for signal N); nothing follows. */
        void exited(int exitCode);

        /**
         * The command could not be run ({@code failed_precondition}: no such program or user), or the machine's run
         * or control channel ended under it; nothing follows.
         */
        void failed(ApiException error);
    }
}
